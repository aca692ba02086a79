using System.CommandLine;
using Idefics3.Checkpoints;
using Idefics3.Configuration;
using Idefics3.Hub;
using Idefics3.Samples.Quickstart;

var model = new Option<string>("--model")
{
    Description = "A local model folder or a Hugging Face repo id (org/name[@rev]).",
    DefaultValueFactory = _ => QuickstartApp.DefaultModel,
};
var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
var first = new Option<string?>("--image1") { Description = "The first image (default: assets/lake.jpg)." };
var second = new Option<string?>("--image2") { Description = "The second image (default: assets/chart.png)." };
var maxTokens = new Option<int>("--max-tokens") { Description = "The longest answer, in tokens.", DefaultValueFactory = _ => 300 };

var root = new RootCommand("Quickstart: describe two images in one conversation with a local SmolVLM model (IChatClient, streaming).")
{
    model, device, first, second, maxTokens,
};
root.SetAction(async (parse, ct) =>
{
    var options = new QuickstartOptions
    {
        Model = parse.GetValue(model)!,
        Device = parse.GetValue(device)!,
        MaxTokens = parse.GetValue(maxTokens),
    };
    options.FirstImage = parse.GetValue(first) ?? options.FirstImage;
    options.SecondImage = parse.GetValue(second) ?? options.SecondImage;
    try
    {
        await QuickstartApp.RunAsync(options, Console.Out, ct);
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
