using System.Text;
using System.Text.Json;
using Idefics3.Generation;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Services;
using MeaiTextContent = Microsoft.Extensions.AI.TextContent;
using SkTextContent = Microsoft.SemanticKernel.TextContent;

namespace Idefics3.SemanticKernel.Tests;

/// <summary>
/// Semantic Kernel's chat completion over the model: the same prompt as the Microsoft.Extensions.AI path (there is one
/// prompt builder), settings that reach the engine, usage in metadata.
/// </summary>
public sealed class Idefics3ChatCompletionServiceTests : IClassFixture<KernelFixture>
{
    private readonly KernelFixture _fixture;

    public Idefics3ChatCompletionServiceTests(KernelFixture fixture) => _fixture = fixture;

    private static Idefics3PromptExecutionSettings Greedy(int maxTokens = 4) => new() { Temperature = 0, MaxTokens = maxTokens };

    [Fact]
    public async Task The_kernel_resolves_our_service_and_invokes_a_prompt()
    {
        Assert.IsType<Idefics3ChatCompletionService>(_fixture.ChatCompletion);

        FunctionResult result = await _fixture.Kernel.InvokePromptAsync("Say hello.", new KernelArguments(Greedy(3)));

        var message = Assert.IsType<ChatMessageContent>(result.GetValue<ChatMessageContent>());
        Assert.Equal(3, KernelFixture.Raw(message).OutputIds.Count);
        Assert.Equal(_fixture.Engine.ModelId, _fixture.ChatCompletion.GetModelId());
    }

    [Fact]
    public async Task Chat_history_with_text_and_image_bytes_gives_the_same_prompt_as_the_MEAI_path()
    {
        byte[] png = KernelFixture.ImageC;
        var history = new ChatHistory("You describe pictures.");
        history.AddUserMessage([new SkTextContent("What is this?"), new ImageContent(png, "image/png")]);

        ChatMessageContent reply = await _fixture.ChatCompletion.GetChatMessageContentAsync(history, Greedy());
        ChatResponse reference = await _fixture.ChatClient.GetResponseAsync(
            [new(ChatRole.System, "You describe pictures."), new(ChatRole.User, [new MeaiTextContent("What is this?"), new DataContent(png, "image/png")])],
            new ChatOptions { Temperature = 0, MaxOutputTokens = 4 });

        Assert.Equal(KernelFixture.Raw(reference).InputIds, KernelFixture.Raw(reply).InputIds);
        Assert.Equal(KernelFixture.Raw(reference).OutputIds, KernelFixture.Raw(reply).OutputIds);
        Assert.Equal(reference.Text, reply.Content);
        Assert.True(KernelFixture.Raw(reply).Usage.ImageTokens > 0);
    }

    [Fact]
    public async Task An_image_as_a_data_uri_gives_the_same_prompt_as_the_bytes()
    {
        byte[] png = KernelFixture.ImageA;
        var bytes = new ChatHistory();
        bytes.AddUserMessage([new ImageContent(png, "image/png"), new SkTextContent("Describe.")]);
        var dataUri = new ChatHistory();
        dataUri.AddUserMessage([new ImageContent("data:image/png;base64," + Convert.ToBase64String(png)), new SkTextContent("Describe.")]);

        ChatMessageContent a = await _fixture.ChatCompletion.GetChatMessageContentAsync(bytes, Greedy(1));
        ChatMessageContent b = await _fixture.ChatCompletion.GetChatMessageContentAsync(dataUri, Greedy(1));

        Assert.Equal(KernelFixture.Raw(a).InputIds, KernelFixture.Raw(b).InputIds);
    }

    [Fact]
    public async Task An_image_uri_is_refused_unless_the_client_allows_it_and_then_read()
    {
        string path = Path.Combine(Path.GetTempPath(), $"idefics3-sk-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(path, KernelFixture.ImageA);
        try
        {
            var history = new ChatHistory();
            history.AddUserMessage([new ImageContent(new Uri(path)) { MimeType = "image/png" }, new SkTextContent("Describe.")]);
            ImageFetchException refused = await Assert.ThrowsAsync<ImageFetchException>(() => _fixture.ChatCompletion.GetChatMessageContentAsync(history, Greedy(1)));
            Assert.Contains("AllowFileUris", refused.Message, StringComparison.Ordinal);

            Kernel allowing = Kernel.CreateBuilder()
                .AddIdefics3ChatCompletion(KernelFixture.ModelDirectory, o =>
                {
                    KernelFixture.Configure(o);
                    o.Client.AllowFileUris = true;
                })
                .Build();
            ChatMessageContent reply = await allowing.GetRequiredService<IChatCompletionService>().GetChatMessageContentAsync(history, Greedy(1));
            var bytes = new ChatHistory();
            bytes.AddUserMessage([new ImageContent(KernelFixture.ImageA, "image/png"), new SkTextContent("Describe.")]);
            ChatMessageContent reference = await _fixture.ChatCompletion.GetChatMessageContentAsync(bytes, Greedy(1));

            Assert.Equal(KernelFixture.Raw(reference).InputIds, KernelFixture.Raw(reply).InputIds);
            (allowing.Services as IDisposable)?.Dispose();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Streaming_chunks_concatenate_to_the_non_streaming_reply_and_the_last_carries_usage()
    {
        var history = new ChatHistory();
        history.AddUserMessage("Tell me a story.");

        ChatMessageContent whole = await _fixture.ChatCompletion.GetChatMessageContentAsync(history, Greedy(6));
        var text = new StringBuilder();
        var chunks = new List<StreamingChatMessageContent>();
        await foreach (StreamingChatMessageContent chunk in _fixture.ChatCompletion.GetStreamingChatMessageContentsAsync(history, Greedy(6)))
        {
            chunks.Add(chunk);
            text.Append(chunk.Content);
        }

        Assert.Equal(whole.Content, text.ToString());
        UsageDetails usage = Assert.IsType<UsageContent>(chunks[^1].Metadata!["Usage"]).Details;
        Assert.Equal(6, usage.OutputTokenCount);
        Assert.Equal(usage.InputTokenCount + usage.OutputTokenCount, usage.TotalTokenCount);
        Assert.Single(history); // the service adds nothing to the caller's history
    }

    [Fact]
    public async Task Usage_and_generation_details_are_in_the_reply_metadata()
    {
        var history = new ChatHistory();
        history.AddUserMessage([new ImageContent(KernelFixture.ImageA, "image/png"), new SkTextContent("Describe.")]);

        ChatMessageContent reply = await _fixture.ChatCompletion.GetChatMessageContentAsync(history, Greedy(3));

        var usage = Assert.IsType<UsageDetails>(reply.Metadata!["Usage"]);
        Assert.Equal(3, usage.OutputTokenCount);
        Assert.True(usage.InputTokenCount > 1);
        Assert.Equal(KernelFixture.Raw(reply).Usage.ImageTokens, usage.AdditionalCounts!["image_tokens"]);
        Assert.IsType<GenerationTimings>(reply.Metadata["timings"]);
        Assert.Equal(_fixture.Engine.ModelId, reply.ModelId);
    }

    public static TheoryData<string, string, object, double> SettingsAndOptions => new()
    {
        // The SK setting (snake_case JSON name), the MEAI ChatOptions property or additional-property key it must act as,
        // its value, and the temperature under which that value visibly changes the tokens or the prompt.
        { "max_tokens", nameof(ChatOptions.MaxOutputTokens), 3, 0.0 },
        { "top_k", nameof(ChatOptions.TopK), 1, 2.0 },
        { "seed", nameof(ChatOptions.Seed), 9L, 2.0 },
        { "repetition_penalty", "repetition_penalty", 5.0, 0.0 },
        { "min_p", "min_p", 0.5, 2.0 },
        { "do_image_splitting", "do_image_splitting", false, 0.0 },
        { "longest_edge", "longest_edge", 56, 0.0 },
    };

    [Theory]
    [MemberData(nameof(SettingsAndOptions))]
    public async Task Each_setting_survives_the_json_round_trip_and_acts_like_its_chat_option(string setting, string option, object value, double temperature)
    {
        string json = JsonSerializer.Serialize(new Dictionary<string, object> { ["temperature"] = temperature, ["seed"] = 4L, ["max_tokens"] = 8, [setting] = value });
        Idefics3PromptExecutionSettings settings = JsonSerializer.Deserialize<Idefics3PromptExecutionSettings>(json)!;
        var options = new ChatOptions { Temperature = (float)temperature, Seed = 4, MaxOutputTokens = 8 };
        switch (option)
        {
            case nameof(ChatOptions.MaxOutputTokens): options.MaxOutputTokens = (int)value; break;
            case nameof(ChatOptions.TopK): options.TopK = (int)value; break;
            case nameof(ChatOptions.Seed): options.Seed = (long)value; break;
            default: options.AdditionalProperties = new() { [option] = value }; break;
        }

        ChatMessageContent reply = await _fixture.ChatCompletion.GetChatMessageContentAsync(ImageHistory(), settings);
        ChatResponse reference = await _fixture.ChatClient.GetResponseAsync(ImageMessages(), options);
        ChatResponse baseline = await _fixture.ChatClient.GetResponseAsync(ImageMessages(), new ChatOptions { Temperature = (float)temperature, Seed = 4, MaxOutputTokens = 8 });

        GenerationResult sk = KernelFixture.Raw(reply), meai = KernelFixture.Raw(reference), plain = KernelFixture.Raw(baseline);
        Assert.Equal(meai.InputIds, sk.InputIds);
        Assert.Equal(meai.OutputIds, sk.OutputIds);
        Assert.False(plain.InputIds.SequenceEqual(sk.InputIds) && plain.OutputIds.SequenceEqual(sk.OutputIds), $"'{setting}' changed nothing");
    }

    [Fact]
    public async Task Temperature_zero_is_greedy_and_stop_sequences_end_the_reply()
    {
        var history = new ChatHistory();
        history.AddUserMessage("Say something.");
        ChatMessageContent free = await _fixture.ChatCompletion.GetChatMessageContentAsync(history, Greedy(16));
        string text = free.Content!;
        string stop = text.Substring(text.Length / 2, 2);

        ChatMessageContent stopped = await _fixture.ChatCompletion.GetChatMessageContentAsync(
            history, new PromptExecutionSettings { ExtensionData = new Dictionary<string, object> { ["temperature"] = 0, ["max_tokens"] = 16, ["stop_sequences"] = new[] { stop } } });

        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], stopped.Content);
        Assert.Equal(FinishReason.StopSequence, KernelFixture.Raw(stopped).FinishReason);
        Assert.Equal(stop, stopped.Metadata!["stop_sequence"]);
    }

    [Fact]
    public async Task Logprobs_settings_return_logprobs_in_the_metadata()
    {
        var history = new ChatHistory();
        history.AddUserMessage("Hi");

        ChatMessageContent reply = await _fixture.ChatCompletion.GetChatMessageContentAsync(history, new Idefics3PromptExecutionSettings { Temperature = 0, MaxTokens = 3, TopLogprobs = 2 });
        ChatMessageContent without = await _fixture.ChatCompletion.GetChatMessageContentAsync(history, new Idefics3PromptExecutionSettings { Temperature = 0, MaxTokens = 3, Logprobs = false });

        var logProbs = Assert.IsAssignableFrom<IReadOnlyList<TokenLogProb>>(reply.Metadata!["logprobs"]);
        Assert.Equal(3, logProbs.Count);
        Assert.All(logProbs, l => Assert.Equal(2, l.TopLogProbs.Count));
        Assert.False(without.Metadata!.ContainsKey("logprobs"));
    }

    [Fact]
    public async Task Chat_system_prompt_is_used_when_the_history_has_no_system_message()
    {
        var history = new ChatHistory();
        history.AddUserMessage("Hello");

        ChatMessageContent reply = await _fixture.ChatCompletion.GetChatMessageContentAsync(history, new Idefics3PromptExecutionSettings { MaxTokens = 1, ChatSystemPrompt = "Be kind." });
        ChatResponse reference = await _fixture.ChatClient.GetResponseAsync([new(ChatRole.System, "Be kind."), new(ChatRole.User, "Hello")], new ChatOptions { MaxOutputTokens = 1 });

        Assert.Equal(KernelFixture.Raw(reference).InputIds, KernelFixture.Raw(reply).InputIds);
        Assert.Single(history);
    }

    [Fact]
    public async Task Settings_of_another_connector_are_converted_by_their_json_names()
    {
        var history = new ChatHistory();
        history.AddUserMessage("Hello");
        var foreign = new PromptExecutionSettings { ExtensionData = new Dictionary<string, object> { ["max_tokens"] = 2, ["chat_system_prompt"] = "Be kind." } };

        Idefics3PromptExecutionSettings converted = Idefics3PromptExecutionSettings.FromExecutionSettings(foreign);
        ChatMessageContent reply = await _fixture.ChatCompletion.GetChatMessageContentAsync(history, foreign);

        Assert.Equal(2, converted.MaxTokens);
        Assert.Equal("Be kind.", converted.ChatSystemPrompt);
        Assert.Equal(2, KernelFixture.Raw(reply).OutputIds.Count);
    }

    [Fact]
    public async Task Required_kernel_functions_are_invoked_automatically_and_their_result_feeds_the_next_turn()
    {
        Kernel kernel = _fixture.Kernel.Clone();
        int invoked = 0;
        kernel.Plugins.AddFromFunctions("clock", [KernelFunctionFactory.CreateFromMethod(() => { invoked++; return "noon"; }, "now")]);
        var history = new ChatHistory();
        history.AddUserMessage("What time is it?");

        ChatMessageContent reply = await _fixture.ChatCompletion.GetChatMessageContentAsync(
            history, new Idefics3PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Required(), Temperature = 0, MaxTokens = 200 }, kernel);

        // Semantic Kernel keeps Required() for every round of its loop (up to its own cap), so the function runs at least once.
        Assert.True(invoked >= 1);
        Assert.Equal(AuthorRole.Assistant, reply.Role);
        Microsoft.SemanticKernel.FunctionResultContent result = history.SelectMany(m => m.Items).OfType<Microsoft.SemanticKernel.FunctionResultContent>().First();
        Assert.EndsWith("now", result.FunctionName, StringComparison.Ordinal);
        Assert.Equal("noon", result.Result?.ToString());
        GenerationResult last = KernelFixture.Raw(reply);
        Assert.Contains("<tool_response name=\"clock_now\">noon</tool_response>", _fixture.Engine.Tokenizer.Decode(last.InputIds), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_autoInvoke_false_the_calls_are_handed_to_the_caller_who_can_invoke_them()
    {
        Kernel kernel = _fixture.Kernel.Clone();
        int invoked = 0;
        kernel.Plugins.AddFromFunctions("clock", [KernelFunctionFactory.CreateFromMethod((string zone) => { invoked++; return $"noon in {zone}"; }, "now")]);
        var history = new ChatHistory();
        history.AddUserMessage("What time is it?");

        ChatMessageContent reply = await _fixture.ChatCompletion.GetChatMessageContentAsync(
            history, new Idefics3PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Required(autoInvoke: false), Temperature = 0, MaxTokens = 200 }, kernel);

        Assert.Equal(0, invoked);
        Microsoft.SemanticKernel.FunctionCallContent call = Assert.Single(Microsoft.SemanticKernel.FunctionCallContent.GetFunctionCalls(reply));
        Assert.True(call.PluginName == "clock" && call.FunctionName == "now", $"{call.PluginName} / {call.FunctionName}");
        Microsoft.SemanticKernel.FunctionResultContent result = await call.InvokeAsync(kernel);
        Assert.Equal(1, invoked);
        Assert.StartsWith("noon in ", result.Result?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_shows_the_functions_and_lets_the_model_answer_in_text_and_None_keeps_them_out()
    {
        Kernel kernel = _fixture.Kernel.Clone();
        int invoked = 0;
        kernel.Plugins.AddFromFunctions("clock", [KernelFunctionFactory.CreateFromMethod(() => { invoked++; return "noon"; }, "now")]);
        var history = new ChatHistory();
        history.AddUserMessage("Say hi.");

        ChatMessageContent auto = await _fixture.ChatCompletion.GetChatMessageContentAsync(
            history, new Idefics3PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(), Temperature = 0, MaxTokens = 4 }, kernel);
        ChatMessageContent none = await _fixture.ChatCompletion.GetChatMessageContentAsync(
            history, new Idefics3PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.None(), Temperature = 0, MaxTokens = 4 }, kernel);

        // Auto shows the functions to the model, which may answer in text (the tiny model does); None keeps them out.
        Assert.Equal(0, invoked);
        Assert.Empty(Microsoft.SemanticKernel.FunctionCallContent.GetFunctionCalls(none));
        Assert.Contains("clock_now", _fixture.Engine.Tokenizer.Decode(KernelFixture.Raw(auto).InputIds), StringComparison.Ordinal);
        Assert.DoesNotContain("clock_now", _fixture.Engine.Tokenizer.Decode(KernelFixture.Raw(none).InputIds), StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_serialise_with_snake_case_names_and_leave_unset_values_out()
    {
        var settings = new Idefics3PromptExecutionSettings { MaxTokens = 5, DoImageSplitting = false, StopSequences = ["x"] };

        string json = JsonSerializer.Serialize(settings);

        Assert.Contains("\"max_tokens\":5", json, StringComparison.Ordinal);
        Assert.Contains("\"do_image_splitting\":false", json, StringComparison.Ordinal);
        Assert.Contains("\"stop_sequences\":[\"x\"]", json, StringComparison.Ordinal);
        Assert.DoesNotContain("temperature", json, StringComparison.Ordinal);
        Assert.DoesNotContain("repetition_penalty", json, StringComparison.Ordinal);
        Assert.DoesNotContain("chat_system_prompt", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Frozen_settings_refuse_changes_and_clones_copy_every_value()
    {
        var settings = new Idefics3PromptExecutionSettings { Temperature = 0.5, TopK = 3, MinP = 0.1, LongestEdge = 112, StopSequences = ["a"] };
        var clone = (Idefics3PromptExecutionSettings)settings.Clone();
        settings.Freeze();

        Assert.Throws<InvalidOperationException>(() => settings.TopK = 4);
        Assert.Equal(JsonSerializer.Serialize(settings), JsonSerializer.Serialize(clone));
        Assert.NotSame(settings.StopSequences, clone.StopSequences);
    }

    private static ChatHistory ImageHistory()
    {
        var history = new ChatHistory();
        history.AddUserMessage([new ImageContent(KernelFixture.ImageC, "image/png"), new SkTextContent("Describe la la la la.")]);
        return history;
    }

    private static ChatMessage[] ImageMessages() =>
        [new(ChatRole.User, [new DataContent(KernelFixture.ImageC, "image/png"), new MeaiTextContent("Describe la la la la.")])];
}
