using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace Idefics3.SemanticKernel.Tests;

/// <summary>Microsoft Agent Framework: an agent over our client keeps its conversation (images included) in its session.</summary>
public sealed class AgentTests : IClassFixture<KernelFixture>
{
    private readonly KernelFixture _fixture;

    public AgentTests(KernelFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task An_agent_with_tools_calls_them_across_turns_with_images_in_the_conversation()
    {
        var recorder = new RecordingChatClient(_fixture.ChatClient);
        var calls = new List<string>();
        AIFunction describe = AIFunctionFactory.Create((string colour) => { calls.Add(colour); return $"A {colour} logo."; }, "lookup_logo", "Looks up a logo by its main colour.");
        AIAgent agent = recorder.AsAIAgent(instructions: "You identify logos.", name: "logos", tools: [describe]);
        AgentSession session = await agent.CreateSessionAsync();
        var required = new ChatClientAgentRunOptions(new ChatOptions { Temperature = 0, MaxOutputTokens = 120, ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false });

        AgentResponse first = await agent.RunAsync(
            new ChatMessage(ChatRole.User, [new DataContent(KernelFixture.ImageC, "image/png"), new TextContent("Which logo is this?")]), session, required);
        AgentResponse second = await agent.RunAsync(new ChatMessage(ChatRole.User, "And the one after it?"), session, required);

        Assert.Equal(2, calls.Count);
        Assert.Single(first.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Single(second.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        GenerationResult last = KernelFixture.Raw(recorder.Responses[^1]);
        string prompt = _fixture.Engine.Tokenizer.Decode(last.InputIds);
        Assert.Contains($"<tool_response name=\"lookup_logo\">A {calls[0]} logo.</tool_response>", prompt, StringComparison.Ordinal);
        Assert.Contains($"<tool_response name=\"lookup_logo\">A {calls[1]} logo.</tool_response>", prompt, StringComparison.Ordinal);
        Assert.Contains(_fixture.Engine.Processor.ImageTokenId, last.InputIds); // turn 1's image is still in the conversation
    }

    [Fact]
    public async Task An_agent_runs_a_multi_turn_conversation_with_images_and_keeps_the_history_in_its_session()
    {
        var recorder = new RecordingChatClient(_fixture.ChatClient);
        AIAgent agent = recorder.AsAIAgent(instructions: "You describe pictures.", name: "viewer");
        AgentSession session = await agent.CreateSessionAsync();
        var options = new ChatClientAgentRunOptions(new ChatOptions { Temperature = 0, MaxOutputTokens = 3 });

        AgentResponse first = await agent.RunAsync(
            new ChatMessage(ChatRole.User, [new DataContent(KernelFixture.ImageC, "image/png"), new TextContent("What is this?")]), session, options);
        AgentResponse second = await agent.RunAsync(new ChatMessage(ChatRole.User, "And its colours?"), session, options);

        Assert.Equal(2, recorder.Responses.Count);
        GenerationResult turn1 = KernelFixture.Raw(recorder.Responses[0]), turn2 = KernelFixture.Raw(recorder.Responses[1]);
        int imageToken = _fixture.Engine.Processor.ImageTokenId;
        int imageTokens = turn1.InputIds.Count(id => id == imageToken);
        Assert.True(imageTokens > 0);
        Assert.Equal(imageTokens, turn2.InputIds.Count(id => id == imageToken)); // turn 2 re-sends turn 1's image
        Assert.Equal(turn1.InputIds.Take(turn1.InputIds.Count - 2), turn2.InputIds.Take(turn1.InputIds.Count - 2));
        Assert.Contains(recorder.Requests[1], m => m.Role == ChatRole.Assistant && m.Text == first.Text);
        Assert.True(second.Usage!.CachedInputTokenCount > 0); // the first turn's prompt is reused from the KV cache
        Assert.All(recorder.Responses, r => Assert.Null(r.ConversationId));
        Assert.Null(Assert.IsType<ChatClientAgentSession>(session).ConversationId);
    }

    [Fact]
    public async Task The_agents_instructions_reach_the_prompt_as_a_system_message()
    {
        var recorder = new RecordingChatClient(_fixture.ChatClient);
        AIAgent agent = recorder.AsAIAgent(instructions: "You describe pictures.");

        await agent.RunAsync("Hello", options: new ChatClientAgentRunOptions(new ChatOptions { MaxOutputTokens = 1 }));

        ChatResponse reference = await _fixture.ChatClient.GetResponseAsync(
            [new(ChatRole.System, "You describe pictures."), new(ChatRole.User, "Hello")], new ChatOptions { MaxOutputTokens = 1 });
        Assert.Equal(KernelFixture.Raw(reference).InputIds, KernelFixture.Raw(Assert.Single(recorder.Responses)).InputIds);
    }

    /// <summary>Records what the agent sends and what comes back.</summary>
    private sealed class RecordingChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        public List<List<ChatMessage>> Requests { get; } = [];

        public List<ChatResponse> Responses { get; } = [];

        public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Requests.Add([.. messages]);
            ChatResponse response = await base.GetResponseAsync(Requests[^1], options, cancellationToken);
            Responses.Add(response);
            return response;
        }
    }
}
