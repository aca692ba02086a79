using System.Text.Json;
using Idefics3.Processing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Idefics3.Tests.ChatClient;

/// <summary>How messages, content and options reach the model: asserted on the prompt token ids the engine ran.</summary>
[Collection(ChatClientTestGroup.Name)]
public sealed class ChatRequestMapperTests
{
    private readonly ChatClientFixture _fixture;

    public ChatRequestMapperTests(ChatClientFixture fixture) => _fixture = fixture;

    private Idefics3ChatClient Client => _fixture.Client;

    [Fact]
    public async Task Images_interleaved_with_text_reach_the_processor_in_their_order()
    {
        byte[] a = ChatClientFixture.ImageA, b = ChatClientFixture.ImageB;
        var message = new ChatMessage(ChatRole.User, [new TextContent("First"), ChatClientFixture.Png(a), new TextContent("then"), ChatClientFixture.Png(b), new TextContent("compare.")]);

        GenerationResult raw = ChatClientFixture.Raw(await Client.GetResponseAsync([message], ChatClientFixture.Greedy(1)));

        IReadOnlyList<int> inOrder = _fixture.ExpectedInputIds([PromptMessage.Create("user",
            new PromptText("First"), ChatClientFixture.PromptPng(a), new PromptText("then"), ChatClientFixture.PromptPng(b), new PromptText("compare."))]);
        IReadOnlyList<int> swapped = _fixture.ExpectedInputIds([PromptMessage.Create("user",
            new PromptText("First"), ChatClientFixture.PromptPng(b), new PromptText("then"), ChatClientFixture.PromptPng(a), new PromptText("compare."))]);
        Assert.Equal(inOrder, raw.InputIds);
        Assert.NotEqual(swapped, raw.InputIds);
    }

    [Fact]
    public async Task Several_images_in_one_message_and_across_turns_are_all_in_the_prompt()
    {
        byte[] a = ChatClientFixture.ImageA, b = ChatClientFixture.ImageB, c = ChatClientFixture.ImageC;
        ChatMessage[] messages =
        [
            new(ChatRole.User, [ChatClientFixture.Png(a), ChatClientFixture.Png(b), new TextContent("Two pictures.")]),
            new(ChatRole.Assistant, "I see them."),
            new(ChatRole.User, [new TextContent("And this one?"), ChatClientFixture.Png(c)]),
        ];

        ChatResponse response = await Client.GetResponseAsync(messages, ChatClientFixture.Greedy(1));

        IReadOnlyList<int> expected = _fixture.ExpectedInputIds(
        [
            PromptMessage.Create("user", ChatClientFixture.PromptPng(a), ChatClientFixture.PromptPng(b), new PromptText("Two pictures.")),
            PromptMessage.FromText("assistant", "I see them."),
            PromptMessage.Create("user", new PromptText("And this one?"), ChatClientFixture.PromptPng(c)),
        ]);
        Assert.Equal(expected, ChatClientFixture.Raw(response).InputIds);
        TokenAccount account = _fixture.Engine.CountTokens(
            [PromptMessage.Create("user", ChatClientFixture.PromptPng(a), ChatClientFixture.PromptPng(b), ChatClientFixture.PromptPng(c))]);
        Assert.Equal(account.ImageTokens, response.Usage!.AdditionalCounts!["image_tokens"]);
    }

    [Fact]
    public async Task An_image_from_turn_one_is_still_in_the_prompt_of_turn_three()
    {
        List<ChatMessage> history = [new(ChatRole.User, [ChatClientFixture.Png(ChatClientFixture.ImageC), new TextContent("Remember this.")])];
        ChatResponse turn1 = await Client.GetResponseAsync(history, ChatClientFixture.Greedy(2));
        history.AddMessages(turn1);
        history.Add(new ChatMessage(ChatRole.User, "Something else."));
        ChatResponse turn2 = await Client.GetResponseAsync(history, ChatClientFixture.Greedy(2));
        history.AddMessages(turn2);
        history.Add(new ChatMessage(ChatRole.User, "What was in the first picture?"));

        ChatResponse turn3 = await Client.GetResponseAsync(history, ChatClientFixture.Greedy(2));

        IReadOnlyList<int> ids1 = ChatClientFixture.Raw(turn1).InputIds;
        IReadOnlyList<int> ids3 = ChatClientFixture.Raw(turn3).InputIds;
        Assert.Equal(ids1.Take(ids1.Count - 2), ids3.Take(ids1.Count - 2)); // turn 1, image tokens included, opens turn 3's prompt ("Assistant:" aside)
        Assert.Equal(turn1.Usage!.AdditionalCounts!["image_tokens"], turn3.Usage!.AdditionalCounts!["image_tokens"]);
        Assert.True(turn3.Usage.CachedInputTokenCount > 0);
    }

    [Fact]
    public async Task Instructions_become_a_system_message_before_the_history()
    {
        var options = ChatClientFixture.Greedy(1);
        options.Instructions = "Answer in French.";

        ChatResponse response = await Client.GetResponseAsync("Hello", options);

        IReadOnlyList<int> expected = _fixture.ExpectedInputIds([PromptMessage.FromText("system", "Answer in French."), PromptMessage.FromText("user", "Hello")]);
        Assert.Equal(expected, ChatClientFixture.Raw(response).InputIds);
    }

    [Fact]
    public async Task Instructions_merge_into_a_leading_system_message()
    {
        var options = ChatClientFixture.Greedy(1);
        options.Instructions = "Answer in French.";

        ChatResponse response = await Client.GetResponseAsync([new(ChatRole.System, "You are terse."), new(ChatRole.User, "Hello")], options);

        IReadOnlyList<int> expected = _fixture.ExpectedInputIds(
            [PromptMessage.Create("system", new PromptText("Answer in French.\n\n"), new PromptText("You are terse.")), PromptMessage.FromText("user", "Hello")]);
        Assert.Equal(expected, ChatClientFixture.Raw(response).InputIds);
        Assert.Contains("System: Answer in French.\n\nYou are terse.<end_of_utterance>", _fixture.Engine.Processor.RenderPrompt(
            [PromptMessage.Create("system", new PromptText("Answer in French.\n\n"), new PromptText("You are terse.")), PromptMessage.FromText("user", "Hello")]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Semantic_Kernels_chat_system_prompt_is_used_only_when_the_history_has_no_system_message()
    {
        var options = ChatClientFixture.Greedy(1);
        options.AdditionalProperties = new() { ["chat_system_prompt"] = "Be kind." };

        ChatResponse without = await Client.GetResponseAsync("Hello", options);
        ChatResponse with = await Client.GetResponseAsync([new(ChatRole.System, "Be terse."), new(ChatRole.User, "Hello")], options);

        Assert.Equal(_fixture.ExpectedInputIds([PromptMessage.FromText("system", "Be kind."), PromptMessage.FromText("user", "Hello")]), ChatClientFixture.Raw(without).InputIds);
        Assert.Equal(_fixture.ExpectedInputIds([PromptMessage.FromText("system", "Be terse."), PromptMessage.FromText("user", "Hello")]), ChatClientFixture.Raw(with).InputIds);
    }

    [Fact]
    public async Task A_model_id_other_than_the_clients_is_refused()
    {
        var options = new ChatOptions { ModelId = "someone/else" };

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => Client.GetResponseAsync("Hi", options));
        Assert.Contains("someone/else", error.Message, StringComparison.Ordinal);

        ChatResponse same = await Client.GetResponseAsync("Hi", new ChatOptions { ModelId = _fixture.Engine.ModelId.ToUpperInvariant(), MaxOutputTokens = 1 });
        Assert.Equal(_fixture.Engine.ModelId, same.ModelId);
    }

    [Fact]
    public async Task Json_response_formats_constrain_the_output_and_are_shown_to_the_model_as_a_system_instruction()
    {
        ChatResponse anyObject = await Client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 2, ResponseFormat = ChatResponseFormat.Json });
        GenerationResult raw = ChatClientFixture.Raw(anyObject);
        Assert.NotNull(raw.ConstraintSatisfied);
        Assert.Equal(
            _fixture.ExpectedInputIds([PromptMessage.FromText("system", "Answer with a single JSON object and nothing else."), PromptMessage.FromText("user", "Hi")]),
            raw.InputIds);

        using JsonDocument schema = JsonDocument.Parse("""{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"a":{"type":"integer"}}}""");
        var options = new ChatOptions { MaxOutputTokens = 2, Instructions = "Be brief.", ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement, "Thing", "A thing") };
        ChatResponse withSchema = await Client.GetResponseAsync("Hi", options);
        string instruction = "Answer with a single JSON value and nothing else, a \"Thing\" (A thing), that matches this JSON schema: {\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}";
        Assert.Equal(
            _fixture.ExpectedInputIds([new PromptMessage("system", [new PromptText("Be brief."), new PromptText("\n\n" + instruction)]), PromptMessage.FromText("user", "Hi")]),
            ChatClientFixture.Raw(withSchema).InputIds);
        Assert.Matches("^(?s)[ \\n]?(\\{.*)?$", withSchema.Text); // at most one space or newline before the object

        ChatResponse text = await Client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 2, ResponseFormat = ChatResponseFormat.Text });
        Assert.Null(ChatClientFixture.Raw(text).ConstraintSatisfied);
    }

    [Fact]
    public async Task A_conversation_id_is_refused_because_the_client_keeps_no_conversations()
    {
        NotSupportedException error = await Assert.ThrowsAsync<NotSupportedException>(() => Client.GetResponseAsync("Hi", new ChatOptions { ConversationId = "c1" }));
        Assert.Contains("ConversationId", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> UnsupportedMessages => new()
    {
        { "audio", "audio/wav" },
        { "reasoning", "TextReasoningContent" },
        { "custom role", "role 'critic'" },
    };

    [Theory]
    [MemberData(nameof(UnsupportedMessages))]
    public async Task Unsupported_content_throws_NotSupportedException_naming_it_by_default(string kind, string named)
    {
        NotSupportedException error = await Assert.ThrowsAsync<NotSupportedException>(() => Client.GetResponseAsync(WithUnsupported(kind)));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains("UnsupportedContent", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(UnsupportedMessages))]
    public async Task Unsupported_content_is_left_out_with_a_warning_when_the_behaviour_is_Warn(string kind, string named)
    {
        using var provider = new CapturingLoggerProvider();
        using ILoggerFactory factory = provider.CreateFactory();
        using Idefics3ChatClient client = _fixture.NewClient(new Idefics3ChatClientOptions { UnsupportedContent = UnsupportedContentBehavior.Warn }, factory);

        ChatResponse response = await client.GetResponseAsync(WithUnsupported(kind), ChatClientFixture.Greedy(1));

        Assert.Equal(_fixture.ExpectedInputIds([PromptMessage.FromText("user", "Hello")]), ChatClientFixture.Raw(response).InputIds);
        Assert.Contains(provider.Records, r => r.Level == LogLevel.Warning && r.Message.Contains(named, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(UnsupportedMessages))]
    public async Task Unsupported_content_is_left_out_silently_when_the_behaviour_is_Ignore(string kind, string named)
    {
        using var provider = new CapturingLoggerProvider();
        using ILoggerFactory factory = provider.CreateFactory();
        using Idefics3ChatClient client = _fixture.NewClient(new Idefics3ChatClientOptions { UnsupportedContent = UnsupportedContentBehavior.Ignore }, factory);

        ChatResponse response = await client.GetResponseAsync(WithUnsupported(kind), ChatClientFixture.Greedy(1));

        Assert.Equal(_fixture.ExpectedInputIds([PromptMessage.FromText("user", "Hello")]), ChatClientFixture.Raw(response).InputIds);
        Assert.DoesNotContain(provider.Records, r => r.Level >= LogLevel.Warning && r.Message.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Usage_content_in_the_history_is_bookkeeping_and_not_sent_to_the_model()
    {
        var message = new ChatMessage(ChatRole.User, [new TextContent("Hello"), new UsageContent(new UsageDetails { InputTokenCount = 3 })]);

        ChatResponse response = await Client.GetResponseAsync([message], ChatClientFixture.Greedy(1));

        Assert.Equal(_fixture.ExpectedInputIds([PromptMessage.FromText("user", "Hello")]), ChatClientFixture.Raw(response).InputIds);
    }

    [Fact]
    public async Task A_multi_megabyte_data_uri_image_is_decoded_without_System_Uri_parsing()
    {
        byte[] png = LargeNoisyPng(2000, 2000);
        string dataUri = "data:image/png;base64," + Convert.ToBase64String(png);
        Assert.True(dataUri.Length > 2_000_000); // far beyond System.Uri's 65,519-character limit
        var message = new ChatMessage(ChatRole.User, [new DataContent(dataUri), new TextContent("What is this?")]);

        ChatResponse response = await Client.GetResponseAsync([message], ChatClientFixture.Greedy(1));

        TokenAccount account = _fixture.Engine.CountTokens([PromptMessage.Create("user", ChatClientFixture.PromptPng(png), new PromptText("What is this?"))]);
        Assert.Equal(account.TotalTokens, response.Usage!.InputTokenCount);
        Assert.Equal(account.ImageTokens, response.Usage.AdditionalCounts!["image_tokens"]);
        Assert.True(account.FramesPerImage[0] > 1); // split into tiles plus the global image
    }

    private static ChatMessage[] WithUnsupported(string kind) => kind switch
    {
        "audio" => [new(ChatRole.User, [new TextContent("Hello"), new DataContent(new byte[] { 1, 2, 3 }, "audio/wav")])],
        "reasoning" => [new(ChatRole.User, [new TextContent("Hello"), new TextReasoningContent("thinking")])],
        _ => [new(ChatRole.User, "Hello"), new(new ChatRole("critic"), "Too short.")],
    };

    private static byte[] LargeNoisyPng(int width, int height)
    {
        var random = new Random(7);
        return Imaging.TestImages.Png(Imaging.TestImages.Rgba(width, height, (x, y) => ((byte)(x / 8), (byte)(y / 8), (byte)random.Next(64), 255)), width, height);
    }
}
