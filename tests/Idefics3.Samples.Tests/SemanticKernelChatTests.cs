using Idefics3.Samples.SemanticKernelChat;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using MeaiChatRole = Microsoft.Extensions.AI.ChatRole;
using MeaiDataContent = Microsoft.Extensions.AI.DataContent;

namespace Idefics3.Samples.Tests;

public sealed class SemanticKernelChatTests
{
    [Fact]
    public async Task Kernel_chat_and_agent_session_keep_their_turns()
    {
        var output = new StringWriter();
        var options = new SemanticKernelChatOptions { Model = SampleFixtures.TinyModel, MaxTokens = 6, AssetsFolder = SampleFixtures.Assets };

        SemanticKernelChatResult result = await SemanticKernelChatApp.RunAsync(options, output);

        // Semantic Kernel: system, user (image + question), assistant, user (follow-up), assistant.
        ChatHistory kernel = result.KernelHistory;
        Assert.Equal([AuthorRole.System, AuthorRole.User, AuthorRole.Assistant, AuthorRole.User, AuthorRole.Assistant], kernel.Select(m => m.Role));
        Assert.Contains(kernel[1].Items, i => i is ImageContent);
        Assert.False(string.IsNullOrEmpty(kernel[2].Content));
        Assert.False(string.IsNullOrEmpty(kernel[4].Content));

        // Agent Framework: three user turns and three answers in one session; the images stay in the session.
        Assert.Equal(
            [MeaiChatRole.User, MeaiChatRole.Assistant, MeaiChatRole.User, MeaiChatRole.Assistant, MeaiChatRole.User, MeaiChatRole.Assistant],
            result.AgentHistory.Select(m => m.Role));
        Assert.Contains(result.AgentHistory[0].Contents, c => c is MeaiDataContent);
        Assert.Contains(result.AgentHistory[2].Contents, c => c is MeaiDataContent);
        Assert.Contains("(the agent session holds 6 messages)", output.ToString(), StringComparison.Ordinal);
    }
}
