using System.ComponentModel;

namespace Idefics3.Samples.InvoiceExtraction;

/// <summary>What the sample extracts from an invoice scan. Its JSON schema is generated from this type.</summary>
[Description("The fields of an invoice, read from a scanned image")]
public sealed record Invoice(
    [property: Description("The company that issued the invoice")] string Vendor,
    [property: Description("The invoice number as printed")] string InvoiceNumber,
    [property: Description("The invoice date")] DateOnly Date,
    [property: Description("One entry per line item")] List<InvoiceLine> Lines,
    [property: Description("The amount due")] decimal Total,
    [property: Description("ISO 4217 code, for example USD")] string Currency);

/// <summary>One line of an invoice.</summary>
public sealed record InvoiceLine(string Description, int Quantity, decimal UnitPrice, decimal Amount);
