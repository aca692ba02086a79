using Idefics3.Samples.InvoiceExtraction;

namespace Idefics3.Samples.Tests;

public sealed class InvoiceExtractionTests
{
    [Fact]
    public async Task The_invoice_scan_becomes_a_typed_invoice_even_on_the_tiny_random_model()
    {
        var output = new StringWriter();
        var options = new InvoiceOptions { Model = SampleFixtures.TinyModel, MaxTokens = 300 };

        Invoice invoice = await InvoiceApp.RunAsync(options, output);

        Assert.NotNull(invoice.Vendor);
        Assert.NotNull(invoice.Lines);
        Assert.True(invoice.Date.Year >= 1000);
        string text = output.ToString();
        Assert.Matches(@"JSON: [ \n]?\{", text); // at most one space or newline before the object
        Assert.Contains("Vendor:", text, StringComparison.Ordinal);
    }
}
