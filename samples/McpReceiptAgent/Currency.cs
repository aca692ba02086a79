using System.Text.Json.Serialization;

namespace Idefics3.Samples.McpReceiptAgent;

/// <summary>The currencies the sample's exchange-rate server knows (its schema lists exactly these codes).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Currency>))]
public enum Currency
{
    EUR,
    USD,
    GBP,
    CHF,
    JPY,
}
