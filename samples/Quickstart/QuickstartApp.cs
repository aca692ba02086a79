using Microsoft.Extensions.AI;

namespace Idefics3.Samples.Quickstart;

/// <summary>What the quickstart loads and asks.</summary>
public sealed class QuickstartOptions
{
    public string Model { get; set; } = QuickstartApp.DefaultModel;

    public string Device { get; set; } = "auto";

    public string FirstImage { get; set; } = Path.Combine(AppContext.BaseDirectory, "assets", "lake.jpg");

    public string SecondImage { get; set; } = Path.Combine(AppContext.BaseDirectory, "assets", "chart.png");

    public int MaxTokens { get; set; } = 300;
}

/// <summary>
/// The SmolVLM model card example with Microsoft.Extensions.AI: an image and a question, the model's answer kept in the
/// history, then a second image with a follow-up question. Both answers are streamed.
/// </summary>
public static class QuickstartApp
{
    public const string DefaultModel = "HuggingFaceTB/SmolVLM-256M-Instruct";

    /// <summary>Runs the two-turn conversation and returns its history (user, assistant, user, assistant).</summary>
    public static async Task<IReadOnlyList<ChatMessage>> RunAsync(QuickstartOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        output.WriteLine($"Loading {options.Model} ...");
        var progress = new ConsoleProgress(output);
        using Idefics3Engine engine = await Idefics3Engine.LoadAsync(
            options.Model, new Idefics3EngineOptions { Device = options.Device }, progress, null, cancellationToken);
        output.WriteLine($"Loaded {engine.ModelId} on {engine.DeviceName} ({engine.DType}).");

        // The client is a plain IChatClient: anything written against Microsoft.Extensions.AI works with it.
        using IChatClient client = new Idefics3ChatClient(engine);
        var chatOptions = new ChatOptions { MaxOutputTokens = options.MaxTokens };
        List<ChatMessage> history = [];

        await AskAsync(client, history, options.FirstImage, "Can you describe this image?", chatOptions, output, cancellationToken);
        await AskAsync(client, history, options.SecondImage, "And how about this image?", chatOptions, output, cancellationToken);
        return history;
    }

    private static async Task AskAsync(
        IChatClient client, List<ChatMessage> history, string imagePath, string question, ChatOptions chatOptions, TextWriter output, CancellationToken cancellationToken)
    {
        // The image goes first, then the question, as in the model card.
        DataContent image = await DataContent.LoadFromAsync(imagePath, cancellationToken: cancellationToken);
        history.Add(new ChatMessage(ChatRole.User, [image, new TextContent(question)]));
        output.WriteLine();
        output.WriteLine($"User: [{Path.GetFileName(imagePath)}] {question}");
        output.Write("Assistant: ");

        List<ChatResponseUpdate> updates = [];
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(history, chatOptions, cancellationToken))
        {
            output.Write(update.Text);
            updates.Add(update);
        }

        output.WriteLine();

        // The answer joins the history, so the next turn sees the whole conversation.
        history.AddMessages(updates);
        UsageDetails? usage = updates.ToChatResponse().Usage;
        if (usage is not null)
        {
            long imageTokens = usage.AdditionalCounts?.TryGetValue("image_tokens", out long n) == true ? n : 0;
            output.WriteLine($"  [prompt {usage.InputTokenCount} tokens ({imageTokens} image), answer {usage.OutputTokenCount} tokens, {usage.CachedInputTokenCount ?? 0} reused from the prefix cache]");
        }
    }

    /// <summary>Prints load progress as it happens (Progress&lt;T&gt; would post it to the thread pool, out of order).</summary>
    private sealed class ConsoleProgress(TextWriter output) : IProgress<ModelLoadProgress>
    {
        private string _lastStage = string.Empty;

        public void Report(ModelLoadProgress value)
        {
            if (value.Stage != _lastStage)
            {
                _lastStage = value.Stage;
                output.WriteLine($"  {value.Stage}: {value.Message}");
            }
        }
    }
}
