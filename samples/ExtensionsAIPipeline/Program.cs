using System.CommandLine;
using Idefics3.Checkpoints;
using Idefics3.Configuration;
using Idefics3.Hub;
using Idefics3.Samples.ExtensionsAIPipeline;
using Microsoft.Extensions.Logging;

var model = new Option<string>("--model")
{
    Description = "A local model folder or a Hugging Face repo id (org/name[@rev]).",
    DefaultValueFactory = _ => PipelineApp.DefaultModel,
};
var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
var image = new Option<string?>("--image") { Description = "The image to ask about (default: assets/invoice_scan.jpg)." };
var question = new Option<string?>("--question") { Description = "The question." };
var maxTokens = new Option<int>("--max-tokens") { Description = "The longest answer, in tokens.", DefaultValueFactory = _ => 120 };
var noExport = new Option<bool>("--no-telemetry-export") { Description = "Do not print OpenTelemetry spans and metrics." };
var logLevel = new Option<LogLevel>("--log-level") { Description = "Console log level of the chat pipeline (Trace shows message contents).", DefaultValueFactory = _ => LogLevel.Debug };

var root = new RootCommand("Microsoft.Extensions.AI pipeline over a local SmolVLM model: generic host, DI, logging, OpenTelemetry and a distributed cache.")
{
    model, device, image, question, maxTokens, noExport, logLevel,
};
root.SetAction(async (parse, ct) =>
{
    var options = new PipelineOptions
    {
        Model = parse.GetValue(model)!,
        Device = parse.GetValue(device)!,
        MaxTokens = parse.GetValue(maxTokens),
        ExportTelemetryToConsole = !parse.GetValue(noExport),
        LogLevel = parse.GetValue(logLevel),
    };
    options.Image = parse.GetValue(image) ?? options.Image;
    options.Question = parse.GetValue(question) ?? options.Question;
    try
    {
        await PipelineApp.RunAsync(options, Console.Out, ct);
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
