using System.Text.Json;
using Idefics3.Samples.McpReceiptAgent;
using Microsoft.Extensions.AI;

namespace Idefics3.Samples.Tests;

public sealed class McpReceiptAgentTests
{
    [Fact]
    public async Task The_agent_calls_the_mcp_servers_convert_currency_with_valid_arguments_and_gets_the_servers_result()
    {
        var output = new StringWriter();
        var options = new ReceiptAgentOptions
        {
            Model = SampleFixtures.TinyModel,
            Device = "cpu",
            Receipt = Path.Combine(SampleFixtures.Assets, "invoice_scan.jpg"),
            TargetCurrency = Currency.USD,
            MaxTokens = 160,
        };

        ReceiptAgentResult result = await ReceiptAgentApp.RunAsync(options, output);

        Assert.Equal([CurrencyTools.ConvertCurrencyName], result.ServerTools.Select(t => t.Name));
        FunctionCallContent call = Assert.Single(result.Calls);
        Assert.Equal(CurrencyTools.ConvertCurrencyName, call.Name);

        // The constraint makes the arguments valid (a number and two known currency codes); the server converts them.
        decimal amount = ((JsonElement)call.Arguments!["amount"]!).GetDecimal();
        Currency from = Enum.Parse<Currency>(((JsonElement)call.Arguments["from"]!).GetString()!);
        Currency to = Enum.Parse<Currency>(((JsonElement)call.Arguments["to"]!).GetString()!);
        FunctionResultContent served = Assert.Single(result.Results);
        Assert.Equal(call.CallId, served.CallId);
        Assert.Null(served.Exception);
        ConversionResult expected = CurrencyTools.ConvertCurrency(amount, from, to);
        Assert.Contains(JsonSerializer.Serialize(expected.Converted), JsonSerializer.Serialize(served.Result), StringComparison.Ordinal);
        Assert.Contains("Tool call: convert_currency", output.ToString(), StringComparison.Ordinal);
    }
}
