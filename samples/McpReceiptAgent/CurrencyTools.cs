using System.ComponentModel;
using ModelContextProtocol.Server;

namespace Idefics3.Samples.McpReceiptAgent;

/// <summary>The one tool of the sample's MCP server: currency conversion with fixed, made-up rates (no network).</summary>
[McpServerToolType]
public static class CurrencyTools
{
    /// <summary>The tool's name as the model sees it.</summary>
    public const string ConvertCurrencyName = "convert_currency";

    // Units of each currency per euro (illustrative fixed rates, not market data).
    private static readonly Dictionary<Currency, decimal> PerEuro = new()
    {
        [Currency.EUR] = 1m,
        [Currency.USD] = 1.08m,
        [Currency.GBP] = 0.85m,
        [Currency.CHF] = 0.95m,
        [Currency.JPY] = 162m,
    };

    /// <summary>Converts an amount between two currencies.</summary>
    [McpServerTool(Name = ConvertCurrencyName)]
    [Description("Converts an amount of money from one currency to another with today's rate.")]
    public static ConversionResult ConvertCurrency(
        [Description("The amount to convert, for example the total of a receipt.")] decimal amount,
        [Description("The currency of the amount.")] Currency from,
        [Description("The currency to convert to.")] Currency to)
    {
        decimal rate = PerEuro[to] / PerEuro[from];
        return new ConversionResult(amount, from, Math.Round(amount * rate, 2), to, Math.Round(rate, 6));
    }
}

/// <summary>What <see cref="CurrencyTools.ConvertCurrency"/> returns.</summary>
public sealed record ConversionResult(decimal Amount, Currency From, decimal Converted, Currency To, decimal Rate);
