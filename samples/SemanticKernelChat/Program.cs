using System.CommandLine;
using Idefics3.Checkpoints;
using Idefics3.Configuration;
using Idefics3.Hub;
using Idefics3.Samples.SemanticKernelChat;

var model = new Option<string>("--model")
{
    Description = "A local model folder or a Hugging Face repo id (org/name[@rev]).",
    DefaultValueFactory = _ => SemanticKernelChatApp.DefaultModel,
};
var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
var maxTokens = new Option<int>("--max-tokens") { Description = "The longest answer, in tokens.", DefaultValueFactory = _ => 200 };

var root = new RootCommand("Semantic Kernel chat with images, and a Microsoft Agent Framework agent, over a local SmolVLM model.")
{
    model, device, maxTokens,
};
root.SetAction(async (parse, ct) =>
{
    var options = new SemanticKernelChatOptions
    {
        Model = parse.GetValue(model)!,
        Device = parse.GetValue(device)!,
        MaxTokens = parse.GetValue(maxTokens),
    };
    try
    {
        await SemanticKernelChatApp.RunAsync(options, Console.Out, ct);
        return 0;
    }
    catch (Exception e) when (e is HubException or IOException or ConfigurationException or CheckpointException or InsufficientMemoryException or ArgumentException or InvalidOperationException)
    {
        // Expected failures (no network, a wrong path, a broken checkpoint): the message says what to do.
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
return await root.Parse(args).InvokeAsync();
