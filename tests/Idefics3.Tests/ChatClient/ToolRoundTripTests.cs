using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Idefics3.Tests.ChatClient;

/// <summary>Multi-round tool use through FunctionInvokingChatClient on the tiny model: results feed the next round, the KV cache is reused, errors and the round cap behave as MEAI documents.</summary>
[Collection(ChatClientTestGroup.Name)]
public sealed class ToolRoundTripTests
{
    private readonly ChatClientFixture _fixture;

    public ToolRoundTripTests(ChatClientFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task A_result_feeds_the_next_round_whose_prompt_reuses_the_first_rounds_kv_cache()
    {
        var leaf = new RecordingChatClient(_fixture.Client);
        AIFunction weather = AIFunctionFactory.Create((string city) => $"Sunny in {city}", "get_weather");
        using IChatClient client = leaf.AsBuilder().UseFunctionInvocation().Build();

        ChatResponse response = await client.GetResponseAsync("Weather in Paris?", ToolTests.Required(weather));

        Assert.Equal(2, leaf.Responses.Count);
        GenerationResult first = ChatClientFixture.Raw(leaf.Responses[0]), second = ChatClientFixture.Raw(leaf.Responses[1]);
        FunctionCallContent call = Assert.Single(leaf.Responses[0].Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        string city = ((JsonElement)call.Arguments!["city"]!).GetString()!;
        string prompt = _fixture.Engine.Tokenizer.Decode(second.InputIds);
        Assert.Contains($"<tool_response name=\"get_weather\">Sunny in {city}</tool_response>", prompt, StringComparison.Ordinal);

        // The second prompt starts with the first prompt and the generated call: all of it comes from the prefix cache.
        Assert.Equal(first.InputIds, second.InputIds.Take(first.InputIds.Count));
        Assert.True(leaf.Responses[1].Usage!.CachedInputTokenCount >= first.InputIds.Count, $"cached {leaf.Responses[1].Usage!.CachedInputTokenCount} of {first.InputIds.Count} + {first.OutputIds.Count}");
        Assert.NotEqual(ChatFinishReason.ToolCalls, response.FinishReason);
    }

    [Fact]
    public async Task Several_calls_in_one_answer_are_all_invoked_and_answered_in_one_tool_message()
    {
        AIFunction time = AIFunctionFactory.Create(() => "noon", "get_time");
        AIFunction weather = AIFunctionFactory.Create(() => "sunny", "get_weather");

        // The model decides how many calls it makes; sample until one answer holds several (the constraint keeps each valid).
        ChatResponse? several = null;
        for (int seed = 0; seed < 16 && several is null; seed++)
        {
            var options = new ChatOptions { Tools = [time, weather], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = true, Temperature = 1, Seed = seed, MaxOutputTokens = 150 };
            ChatResponse response = await _fixture.Client.GetResponseAsync("Time and weather in Oslo?", options);
            if (response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Count() >= 2 && response.FinishReason == ChatFinishReason.ToolCalls)
            {
                several = response;
            }
        }

        Assert.NotNull(several);
        FunctionCallContent[] calls = [.. several.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>()];
        Assert.Equal(calls.Length, calls.Select(c => c.CallId).Distinct().Count());
        var invoking = new FunctionInvokingChatClient(new ReplayChatClient(several, _fixture.Client));
        ChatResponse final = await invoking.GetResponseAsync("Time and weather in Oslo?", new ChatOptions { Tools = [time, weather], Temperature = 0, MaxOutputTokens = 4 });
        ChatMessage toolMessage = Assert.Single(final.Messages, m => m.Role == ChatRole.Tool);
        Assert.Equal(calls.Select(c => c.CallId), toolMessage.Contents.OfType<FunctionResultContent>().Select(r => r.CallId));
    }

    [Fact]
    public async Task A_tool_that_throws_is_reported_to_the_model_and_the_loop_goes_on()
    {
        var leaf = new RecordingChatClient(_fixture.Client);
        AIFunction broken = AIFunctionFactory.Create(string (string city) => throw new InvalidOperationException("service down"), "get_weather");
        using IChatClient client = leaf.AsBuilder().UseFunctionInvocation().Build();

        ChatResponse response = await client.GetResponseAsync("Weather?", ToolTests.Required(broken));

        FunctionResultContent result = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.IsType<InvalidOperationException>(result.Exception);
        string prompt = _fixture.Engine.Tokenizer.Decode(ChatClientFixture.Raw(leaf.Responses[1]).InputIds);
        Assert.Contains("<tool_response name=\"get_weather\">Error: Function failed.</tool_response>", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_that_keeps_calling_stops_being_invoked_at_the_invokers_round_cap()
    {
        var leaf = new RecordingChatClient(new AlwaysRequireChatClient(_fixture.Client));
        int invoked = 0;
        AIFunction time = AIFunctionFactory.Create(() => ++invoked, "get_time");
        using IChatClient client = leaf.AsBuilder().UseFunctionInvocation(configure: f => f.MaximumIterationsPerRequest = 3).Build();

        ChatResponse response = await client.GetResponseAsync("Time?", ToolTests.Required(time));

        // The invoker stops invoking after three rounds although the model keeps calling; it answers once more without invoking.
        Assert.Equal(3, invoked);
        Assert.Equal(4, leaf.Responses.Count);
        Assert.NotNull(response.Messages[^1]);
    }

    [Fact]
    public async Task Streaming_a_required_call_gives_the_non_streaming_calls_and_text_without_markup()
    {
        AIFunction weather = AIFunctionFactory.Create((string city, int days) => "sunny", "get_weather");
        ChatOptions options = ToolTests.Required(weather);
        options.AllowMultipleToolCalls = true;

        ChatResponse whole = await _fixture.Client.GetResponseAsync("Weather?", options);
        var updates = new List<ChatResponseUpdate>();
        await foreach (ChatResponseUpdate update in _fixture.Client.GetStreamingResponseAsync("Weather?", options))
        {
            updates.Add(update);
        }

        ChatResponse streamed = updates.ToChatResponse();
        Assert.Equal(ToolTests.Describe(whole), ToolTests.Describe(streamed));
        Assert.Equal(whole.FinishReason, streamed.FinishReason);
        Assert.DoesNotContain(updates.SelectMany(u => u.Contents).OfType<TextContent>(), t => t.Text.Contains('<', StringComparison.Ordinal));
    }

    /// <summary>Records every response of the client under it.</summary>
    private sealed class RecordingChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        public List<ChatResponse> Responses { get; } = [];

        public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            ChatResponse response = await base.GetResponseAsync(messages, options, cancellationToken);
            lock (Responses)
            {
                Responses.Add(response);
            }

            return response;
        }
    }

    /// <summary>A model that always calls a tool while tools are offered (the invoker relaxes only the first round's mode).</summary>
    private sealed class AlwaysRequireChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            if (options?.Tools is { Count: > 0 } && options.ToolMode is not NoneChatToolMode)
            {
                options = options.Clone();
                options.ToolMode = ChatToolMode.RequireAny;
            }

            return base.GetResponseAsync(messages, options, cancellationToken);
        }
    }

    /// <summary>Answers the first request with a recorded response, then passes requests to the real client.</summary>
    private sealed class ReplayChatClient(ChatResponse first, IChatClient inner) : DelegatingChatClient(inner)
    {
        private bool _replayed;

        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            if (!_replayed)
            {
                _replayed = true;
                return Task.FromResult(first);
            }

            return base.GetResponseAsync(messages, options, cancellationToken);
        }
    }
}
