using System.CommandLine;
using Idefics3.Checkpoints;
using Idefics3.Configuration;
using Idefics3.Hub;
using Idefics3.Samples.InvoiceExtraction;

var model = new Option<string>("--model")
{
    Description = "A local model folder or a Hugging Face repo id (org/name[@rev]).",
    DefaultValueFactory = _ => InvoiceApp.DefaultModel,
};
var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
var image = new Option<string?>("--image") { Description = "The invoice scan (default: assets/invoice_scan.jpg)." };
var maxTokens = new Option<int>("--max-tokens") { Description = "The longest answer, in tokens.", DefaultValueFactory = _ => 400 };

var root = new RootCommand("Invoice extraction: a scanned invoice to a typed Invoice record with GetResponseAsync<Invoice> (structured output).")
{
    model, device, image, maxTokens,
};
root.SetAction(async (parse, ct) =>
{
    var options = new InvoiceOptions { Model = parse.GetValue(model)!, Device = parse.GetValue(device)!, MaxTokens = parse.GetValue(maxTokens) };
    options.Image = parse.GetValue(image) ?? options.Image;
    try
    {
        await InvoiceApp.RunAsync(options, Console.Out, ct);
        return 0;
    }
    catch (Exception e) when (e is HubException or IOException or ConfigurationException or CheckpointException or InsufficientMemoryException or ArgumentException or InvalidOperationException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
return await root.Parse(args).InvokeAsync();
