using Idefics3.Processing;
using Idefics3.StructuredOutput;

namespace Idefics3.Tests.StructuredOutput;

public sealed class JsonResponseFormatTests
{
    [Fact]
    public void Validate_rejects_an_unsupported_keyword_before_any_request()
    {
        var format = JsonResponseFormat.ForSchema("""{"type":"object","patternProperties":{"^x":{"type":"string"}}}""");

        var ex = Assert.Throws<StructuredOutputSchemaException>(format.Validate);
        Assert.Contains("patternProperties", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_accepts_a_supported_schema_and_any_object()
    {
        JsonResponseFormat.ForSchema("""{"type":"object","properties":{"total":{"type":"number"}},"required":["total"]}""").Validate();
        JsonResponseFormat.AnyObject.Validate();
    }

    [Fact]
    public void AddInstructionTo_appends_to_the_leading_system_message_or_inserts_one()
    {
        var format = JsonResponseFormat.ForSchema("""{"type":"object","properties":{"total":{"type":"number"}}}""", "invoice");
        List<PromptMessage> withSystem = [PromptMessage.FromText("system", "You read invoices."), PromptMessage.FromText("user", "Total?")];
        List<PromptMessage> withoutSystem = [PromptMessage.FromText("user", "Total?")];

        format.AddInstructionTo(withSystem);
        format.AddInstructionTo(withoutSystem);

        Assert.Equal(2, withSystem.Count);
        Assert.Equal("You read invoices.", ((PromptText)withSystem[0].Contents[0]).Text);
        Assert.Contains("invoice", ((PromptText)withSystem[0].Contents[^1]).Text, StringComparison.Ordinal);
        Assert.Equal(2, withoutSystem.Count);
        Assert.Equal("system", withoutSystem[0].Role);
        Assert.Contains("\"total\"", ((PromptText)withoutSystem[0].Contents[0]).Text, StringComparison.Ordinal);
    }
}
