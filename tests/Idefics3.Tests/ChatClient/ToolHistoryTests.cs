using System.Text.Json;
using Idefics3.Processing;
using Idefics3.ToolCalling;
using Microsoft.Extensions.AI;

namespace Idefics3.Tests.ChatClient;

/// <summary>How tools, earlier calls and their results reach the prompt: asserted on the prompt token ids the engine ran.</summary>
[Collection(ChatClientTestGroup.Name)]
public sealed class ToolHistoryTests
{
    private static readonly AIFunction Weather = AIFunctionFactory.Create((string city) => $"Sunny in {city}", "get_weather", "Gets the weather.");
    private readonly ChatClientFixture _fixture;

    public ToolHistoryTests(ChatClientFixture fixture) => _fixture = fixture;

    private Idefics3ChatClient Client => _fixture.Client;

    [Fact]
    public async Task Tools_are_described_in_a_system_message_after_the_callers_own_and_tool_mode_None_adds_nothing()
    {
        var options = new ChatOptions { Tools = [Weather], ToolMode = ChatToolMode.None, MaxOutputTokens = 1, Temperature = 0 };
        ChatMessage[] messages = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Weather in Paris?")];

        GenerationResult none = ChatClientFixture.Raw(await Client.GetResponseAsync(messages, options));

        Assert.Equal(_fixture.ExpectedInputIds([PromptMessage.FromText("system", "Be brief."), PromptMessage.FromText("user", "Weather in Paris?")]), none.InputIds);
        string toolPrompt = ToolPrompt.Build(ToolSet.FromOptions(new ChatOptions { Tools = [Weather] })!);
        IReadOnlyList<int> expected = _fixture.ExpectedInputIds(
        [
            PromptMessage.Create("system", new PromptText("Be brief."), new PromptText("\n\n" + toolPrompt)),
            PromptMessage.FromText("user", "Weather in Paris?"),
        ]);
        ChatResponse auto = await Client.GetResponseAsync(messages, new ChatOptions { Tools = [Weather], MaxOutputTokens = 1, Temperature = 0 });
        Assert.Equal(expected, ChatClientFixture.Raw(auto).InputIds);
    }

    [Fact]
    public async Task Earlier_calls_replay_as_envelopes_and_results_come_back_as_a_user_turn_with_images_as_images()
    {
        byte[] png = ChatClientFixture.ImageA;
        var call = new FunctionCallContent("c1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" });
        var second = new FunctionCallContent("c2", "get_weather", new Dictionary<string, object?> { ["city"] = "Oslo" });
        ChatMessage[] messages =
        [
            new(ChatRole.User, "Weather in Paris and Oslo?"),
            new(ChatRole.Assistant, [new TextContent("Checking."), call, second]),
            new(ChatRole.Tool, [new FunctionResultContent("c1", "Sunny"), new FunctionResultContent("c2", new DataContent(png, "image/png"))]),
        ];

        GenerationResult raw = ChatClientFixture.Raw(await Client.GetResponseAsync(messages, ChatClientFixture.Greedy(1)));

        IReadOnlyList<int> expected = _fixture.ExpectedInputIds(
        [
            PromptMessage.FromText("user", "Weather in Paris and Oslo?"),
            PromptMessage.Create(
                "assistant",
                new PromptText("Checking."),
                new PromptText("<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}</tool_call>"),
                new PromptText("\n<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Oslo\"}}</tool_call>")),
            PromptMessage.Create(
                "user",
                new PromptText("<tool_response name=\"get_weather\">"),
                new PromptText("Sunny"),
                new PromptText("</tool_response>"),
                new PromptText("\n<tool_response name=\"get_weather\">"),
                ChatClientFixture.PromptPng(png),
                new PromptText("</tool_response>")),
        ]);
        Assert.Equal(expected, raw.InputIds);
        Assert.Contains(_fixture.Engine.Processor.ImageTokenId, raw.InputIds);
    }

    [Fact]
    public async Task A_call_this_client_parsed_is_replayed_byte_for_byte_and_json_results_verbatim()
    {
        const string body = "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}";
        var call = new FunctionCallContent("c1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" }) { RawRepresentation = new GeneratedToolCall(body) };
        ChatMessage[] messages =
        [
            new(ChatRole.User, "Weather?"),
            new(ChatRole.Assistant, [call]),
            new(ChatRole.Tool, [new FunctionResultContent("c1", JsonDocument.Parse("{\"sky\":\"clear\",\"c\":21}").RootElement)]),
        ];

        GenerationResult raw = ChatClientFixture.Raw(await Client.GetResponseAsync(messages, ChatClientFixture.Greedy(1)));

        Assert.Equal(
            _fixture.ExpectedInputIds(
            [
                PromptMessage.FromText("user", "Weather?"),
                PromptMessage.FromText("assistant", "<tool_call>" + body + "</tool_call>"),
                PromptMessage.Create("user", new PromptText("<tool_response name=\"get_weather\">"), new PromptText("{\"sky\":\"clear\",\"c\":21}"), new PromptText("</tool_response>")),
            ]),
            raw.InputIds);
    }

    [Fact]
    public async Task A_result_whose_call_id_matches_no_call_is_refused_with_the_id()
    {
        ChatMessage[] messages = [new(ChatRole.User, "Hi"), new(ChatRole.Tool, [new FunctionResultContent("ghost", "x")])];

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => Client.GetResponseAsync(messages, ChatClientFixture.Greedy(1)));

        Assert.Contains("'ghost'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_tool_without_a_result_shows_the_model_its_error()
    {
        var call = new FunctionCallContent("c1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" });
        ChatMessage[] messages =
        [
            new(ChatRole.User, "Weather?"),
            new(ChatRole.Assistant, [call]),
            new(ChatRole.Tool, [new FunctionResultContent("c1", null) { Exception = new InvalidOperationException("service down") }]),
        ];

        GenerationResult raw = ChatClientFixture.Raw(await Client.GetResponseAsync(messages, ChatClientFixture.Greedy(1)));

        string prompt = _fixture.Engine.Tokenizer.Decode(raw.InputIds, skipSpecialTokens: false);
        Assert.Contains("<tool_response name=\"get_weather\">Error: service down</tool_response>", prompt, StringComparison.Ordinal);
    }
}
