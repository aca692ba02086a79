using System.Text;
using Idefics3.SemanticKernel;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using SkImageContent = Microsoft.SemanticKernel.ImageContent;
using SkTextContent = Microsoft.SemanticKernel.TextContent;

namespace Idefics3.Samples.SemanticKernelChat;

/// <summary>What the sample loads and asks.</summary>
public sealed class SemanticKernelChatOptions
{
    public string Model { get; set; } = SemanticKernelChatApp.DefaultModel;

    public string Device { get; set; } = "auto";

    public string AssetsFolder { get; set; } = Path.Combine(AppContext.BaseDirectory, "assets");

    public int MaxTokens { get; set; } = 200;
}

/// <summary>What the two conversations left behind, for callers (and tests) to inspect.</summary>
public sealed record SemanticKernelChatResult(ChatHistory KernelHistory, IReadOnlyList<ChatMessage> AgentHistory);

/// <summary>
/// Part 1: a Semantic Kernel <see cref="Kernel"/> with <c>AddIdefics3ChatCompletion</c>, a <see cref="ChatHistory"/>
/// holding an <see cref="SkImageContent"/>, <see cref="Idefics3PromptExecutionSettings"/> and streaming output.
/// Part 2: a Microsoft Agent Framework agent (<c>AsAIAgent()</c>) over the same model, keeping a multi-turn session
/// about two images.
/// </summary>
public static class SemanticKernelChatApp
{
    public const string DefaultModel = "HuggingFaceTB/SmolVLM-256M-Instruct";

    public static async Task<SemanticKernelChatResult> RunAsync(SemanticKernelChatOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        IKernelBuilder builder = Kernel.CreateBuilder();

        // Registers IChatCompletionService and the IChatClient under it; the model loads on first use, once.
        builder.AddIdefics3ChatCompletion(options.Model, o => o.Engine.Device = options.Device);
        Kernel kernel = builder.Build();
        try
        {
            output.WriteLine($"Loading {options.Model} (on first use) ...");
            ChatHistory kernelHistory = await RunKernelChatAsync(kernel, options, output, cancellationToken);

            // The agent runs on the IChatClient the kernel registered: the same loaded model.
            IChatClient chatClient = kernel.GetRequiredService<IChatClient>();
            IReadOnlyList<ChatMessage> agentHistory = await RunAgentAsync(chatClient, options, output, cancellationToken);
            return new SemanticKernelChatResult(kernelHistory, agentHistory);
        }
        finally
        {
            // Disposes the engine registry, and with it the model.
            if (kernel.Services is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    /// <summary>Two turns through Semantic Kernel: an image with a question, then a text follow-up about it.</summary>
    public static async Task<ChatHistory> RunKernelChatAsync(Kernel kernel, SemanticKernelChatOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        output.WriteLine();
        output.WriteLine("== Semantic Kernel: IChatCompletionService with ChatHistory and ImageContent ==");
        IChatCompletionService chat = kernel.GetRequiredService<IChatCompletionService>();
        var settings = new Idefics3PromptExecutionSettings
        {
            MaxTokens = options.MaxTokens,
            Temperature = 0, // greedy: the same answer every run
            RepetitionPenalty = 1.1,
            DoImageSplitting = true, // tiles large images for detail (more image tokens)
        };

        byte[] chart = await File.ReadAllBytesAsync(Path.Combine(options.AssetsFolder, "chart.png"), cancellationToken);
        var history = new ChatHistory("You are a careful assistant that reads charts and documents.");
        history.AddUserMessage(
        [
            new SkImageContent(chart, "image/png"),
            new SkTextContent("What does this chart show?"),
        ]);
        await StreamTurnAsync(chat, history, settings, kernel, "[chart.png] What does this chart show?", output, cancellationToken);

        history.AddUserMessage("Which quarter had the highest revenue?");
        await StreamTurnAsync(chat, history, settings, kernel, "Which quarter had the highest revenue?", output, cancellationToken);
        return history;
    }

    /// <summary>A Microsoft Agent Framework agent keeping one session (thread) across three turns about two images.</summary>
    public static async Task<IReadOnlyList<ChatMessage>> RunAgentAsync(IChatClient chatClient, SemanticKernelChatOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        output.WriteLine();
        output.WriteLine("== Microsoft Agent Framework: an agent with a multi-turn session ==");
        AIAgent agent = chatClient.AsAIAgent(
            instructions: "You are a concise assistant. Answer in one or two sentences.",
            name: "ImageGuide");

        // The session holds the conversation: each run sees the earlier turns, images included.
        AgentSession session = await agent.CreateSessionAsync(cancellationToken);
        var runOptions = new ChatClientAgentRunOptions(new ChatOptions { MaxOutputTokens = options.MaxTokens });

        byte[] lake = await File.ReadAllBytesAsync(Path.Combine(options.AssetsFolder, "lake.jpg"), cancellationToken);
        byte[] invoice = await File.ReadAllBytesAsync(Path.Combine(options.AssetsFolder, "invoice_scan.jpg"), cancellationToken);
        ChatMessage[] turns =
        [
            new(ChatRole.User, [new DataContent(lake, "image/jpeg"), new Microsoft.Extensions.AI.TextContent("Describe this photo.")]),
            new(ChatRole.User, [new DataContent(invoice, "image/jpeg"), new Microsoft.Extensions.AI.TextContent("Here is a second image. What kind of document is it?")]),
            new(ChatRole.User, "Which of the two images shows water?"),
        ];
        string[] shown = ["[lake.jpg] Describe this photo.", "[invoice_scan.jpg] Here is a second image. What kind of document is it?", "Which of the two images shows water?"];

        for (int i = 0; i < turns.Length; i++)
        {
            output.WriteLine($"User: {shown[i]}");
            output.Write($"{agent.Name}: ");
            await foreach (AgentResponseUpdate update in agent.RunStreamingAsync(turns[i], session, runOptions, cancellationToken))
            {
                output.Write(update.Text);
            }

            output.WriteLine();
        }

        List<ChatMessage> history = session.TryGetInMemoryChatHistory(out List<ChatMessage>? messages) ? messages : [];
        output.WriteLine($"(the agent session holds {history.Count} messages)");
        return history;
    }

    private static async Task StreamTurnAsync(
        IChatCompletionService chat, ChatHistory history, PromptExecutionSettings settings, Kernel kernel, string shown, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine($"User: {shown}");
        output.Write("Assistant: ");
        var answer = new StringBuilder();
        await foreach (StreamingChatMessageContent chunk in chat.GetStreamingChatMessageContentsAsync(history, settings, kernel, cancellationToken))
        {
            output.Write(chunk.Content);
            answer.Append(chunk.Content);
        }

        output.WriteLine();
        history.AddAssistantMessage(answer.ToString());
    }
}
