using Microsoft.Extensions.AI;

namespace Idefics3.Samples.InvoiceExtraction;

/// <summary>What the sample loads and reads.</summary>
public sealed class InvoiceOptions
{
    public string Model { get; set; } = InvoiceApp.DefaultModel;

    public string Device { get; set; } = "auto";

    public string Image { get; set; } = Path.Combine(AppContext.BaseDirectory, "assets", "invoice_scan.jpg");

    public int MaxTokens { get; set; } = 400;
}

/// <summary>
/// Structured output: one call, <c>GetResponseAsync&lt;Invoice&gt;</c>, turns an invoice scan into a typed record.
/// Decoding is constrained by the record's JSON schema, so the answer always parses into an <see cref="Invoice"/>,
/// even from the 256M model (whether the values are right depends on the model).
/// </summary>
public static class InvoiceApp
{
    public const string DefaultModel = "HuggingFaceTB/SmolVLM-256M-Instruct";

    /// <summary>Reads the invoice and returns it, printing it as it goes.</summary>
    public static async Task<Invoice> RunAsync(InvoiceOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        output.WriteLine($"Loading {options.Model} ...");
        using Idefics3Engine engine = await Idefics3Engine.LoadAsync(options.Model, new Idefics3EngineOptions { Device = options.Device }, cancellationToken: cancellationToken);
        using IChatClient client = new Idefics3ChatClient(engine);

        DataContent scan = await DataContent.LoadFromAsync(options.Image, cancellationToken: cancellationToken);
        ChatMessage question = new(ChatRole.User, [scan, new TextContent("Extract the invoice's vendor, number, date, line items, total and currency.")]);
        var chatOptions = new ChatOptions { Temperature = 0, MaxOutputTokens = options.MaxTokens };

        // The one line that matters: the response is constrained to Invoice's schema and deserialized.
        ChatResponse<Invoice> response = await client.GetResponseAsync<Invoice>([question], chatOptions, cancellationToken: cancellationToken);

        output.WriteLine($"JSON: {response.Text}");
        if (!response.TryGetResult(out Invoice? invoice))
        {
            // Only when the token budget ran out before the document was complete (finish reason Length).
            throw new InvalidOperationException($"The answer was cut off after {options.MaxTokens} tokens ({response.FinishReason}); raise --max-tokens.");
        }

        output.WriteLine($"Vendor:  {invoice.Vendor}");
        output.WriteLine($"Number:  {invoice.InvoiceNumber}");
        output.WriteLine($"Date:    {invoice.Date:yyyy-MM-dd}");
        foreach (InvoiceLine line in invoice.Lines)
        {
            output.WriteLine($"  {line.Quantity} x {line.Description} @ {line.UnitPrice} = {line.Amount}");
        }

        output.WriteLine($"Total:   {invoice.Total} {invoice.Currency}");
        return invoice;
    }
}
