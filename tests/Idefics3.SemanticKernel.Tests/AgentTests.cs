using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace Idefics3.SemanticKernel.Tests;

/// <summary>Microsoft Agent Framework: an agent over our client keeps its conversation (images included) in its session.</summary>
public sealed class AgentTests : IClassFixture<KernelFixture>
{
    private readonly KernelFixture _fixture;

    public AgentTests(KernelFixture fixture) => _fixture = fixture;

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
