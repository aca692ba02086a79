using System.CommandLine;
using Idefics3.Checkpoints;
using Idefics3.Configuration;
using Idefics3.Hub;
using Idefics3.Samples.McpReceiptAgent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

if (args is [ReceiptAgentApp.ServeArgument])
{
    // The MCP server half: stdout carries the protocol, so logs go to stderr.
    HostApplicationBuilder server = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
    server.Logging.ClearProviders();
    server.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    server.Logging.SetMinimumLevel(LogLevel.Warning);
    server.Services.AddMcpServer().WithStdioServerTransport().WithTools([typeof(CurrencyTools)]);
    await server.Build().RunAsync();
    return 0;
}

var model = new Option<string>("--model")
{
    Description = "A local model folder or a Hugging Face repo id (org/name[@rev]).",
    DefaultValueFactory = _ => ReceiptAgentApp.DefaultModel,
};
var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
var receipt = new Option<string?>("--receipt") { Description = "The receipt image (default: assets/invoice_scan.jpg)." };
var currency = new Option<Currency>("--to") { Description = "The currency to convert the total to.", DefaultValueFactory = _ => Currency.USD };
var maxTokens = new Option<int>("--max-tokens") { Description = "The longest answer per round, in tokens.", DefaultValueFactory = _ => 200 };
var auto = new Option<bool>("--let-model-decide") { Description = "Let the model decide whether to call the tool (default: the first round must call it)." };

var root = new RootCommand("An Agent Framework agent over a local SmolVLM model that reads a receipt and calls an MCP server's convert_currency tool.")
{
    model, device, receipt, currency, maxTokens, auto,
};
root.SetAction(async (parse, ct) =>
{
    var options = new ReceiptAgentOptions
    {
        Model = parse.GetValue(model)!,
        Device = parse.GetValue(device)!,
        TargetCurrency = parse.GetValue(currency),
        MaxTokens = parse.GetValue(maxTokens),
        LetModelDecide = parse.GetValue(auto),
    };
    options.Receipt = parse.GetValue(receipt) ?? options.Receipt;
    try
    {
        await ReceiptAgentApp.RunAsync(options, Console.Out, ct);
        return 0;
    }
    catch (Exception e) when (e is HubException or IOException or ConfigurationException or CheckpointException or InsufficientMemoryException or ArgumentException or InvalidOperationException)
    {
        // Expected failures (no network, a wrong path, a broken checkpoint, a server that does not start): one line.
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
return await root.Parse(args).InvokeAsync();
