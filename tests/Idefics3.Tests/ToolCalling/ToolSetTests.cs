using System.Text.Json;
using Idefics3.ToolCalling;
using Microsoft.Extensions.AI;

namespace Idefics3.Tests.ToolCalling;

public sealed class ToolSetTests
{
    private static readonly AIFunction Weather = AIFunctionFactory.Create((string city) => "sunny", "get_weather", "Gets the weather.");
    private static readonly AIFunction Time = AIFunctionFactory.Create(() => "noon", "get_time");

    [Fact]
    public void No_tools_or_tool_mode_none_means_no_tool_set()
    {
        Assert.Null(ToolSet.FromOptions(null));
        Assert.Null(ToolSet.FromOptions(new ChatOptions()));
        Assert.Null(ToolSet.FromOptions(new ChatOptions { Tools = [Weather], ToolMode = ChatToolMode.None }));
    }

    [Fact]
    public void Modes_map_to_choices_and_require_specific_narrows_the_callable_tools_but_not_the_listed_ones()
    {
        Assert.Equal(ToolChoice.Auto, ToolSet.FromOptions(new ChatOptions { Tools = [Weather, Time] })!.Choice);
        Assert.Equal(ToolChoice.RequireAny, ToolSet.FromOptions(new ChatOptions { Tools = [Weather, Time], ToolMode = ChatToolMode.RequireAny })!.Choice);
        ToolSet specific = ToolSet.FromOptions(new ChatOptions { Tools = [Weather, Time], ToolMode = ChatToolMode.RequireSpecific("get_time"), AllowMultipleToolCalls = false })!;

        Assert.Equal(ToolChoice.RequireSpecific, specific.Choice);
        Assert.Equal(["get_weather", "get_time"], specific.Tools.Select(t => t.Name));
        Assert.Equal(["get_time"], specific.Callable.Select(t => t.Name));
        Assert.False(specific.AllowMultipleCalls);
    }

    [Fact]
    public void A_required_tool_that_is_not_offered_is_refused_by_name()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => ToolSet.FromOptions(new ChatOptions { Tools = [Weather], ToolMode = ChatToolMode.RequireSpecific("launch") }));

        Assert.Contains("'launch'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_tool_names_are_refused()
    {
        AIFunction again = AIFunctionFactory.Create(() => 1, "get_weather");

        ArgumentException error = Assert.Throws<ArgumentException>(() => ToolSet.FromOptions(new ChatOptions { Tools = [Weather, again] }));

        Assert.Contains("'get_weather'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"string\"")]
    [InlineData("{\"type\":\"array\",\"items\":{\"type\":\"string\"}}")]
    public void A_parameter_schema_that_is_not_an_object_schema_is_refused_with_the_tool_name(string schema)
    {
        var declaration = AIFunctionFactory.CreateDeclaration("bad_tool", "x", JsonDocument.Parse(schema).RootElement);

        ArgumentException error = Assert.Throws<ArgumentException>(() => ToolSet.FromOptions(new ChatOptions { Tools = [declaration] }));

        Assert.Contains("'bad_tool'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tool_name_the_protocol_cannot_carry_is_refused()
    {
        var declaration = AIFunctionFactory.CreateDeclaration("bad\"name", "x", JsonDocument.Parse("{\"type\":\"object\"}").RootElement);

        Assert.Throws<ArgumentException>(() => ToolSet.FromOptions(new ChatOptions { Tools = [declaration] }));
    }

    [Fact]
    public void A_hosted_tool_is_not_supported_and_named()
    {
        NotSupportedException error = Assert.Throws<NotSupportedException>(() => ToolSet.FromOptions(new ChatOptions { Tools = [new HostedWebSearchTool()] }));

        Assert.Contains("HostedWebSearchTool", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_prompt_lists_every_tool_with_its_compact_schema_and_the_envelope()
    {
        string prompt = ToolPrompt.Build(ToolSet.FromOptions(new ChatOptions { Tools = [Weather, Time], ToolMode = ChatToolMode.RequireSpecific("get_time") })!);

        Assert.Contains("{\"name\":\"get_weather\",\"description\":\"Gets the weather.\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}", prompt, StringComparison.Ordinal);
        Assert.Contains("{\"name\":\"get_time\",\"parameters\":", prompt, StringComparison.Ordinal);
        Assert.Contains("<tool_call>", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("$schema", prompt, StringComparison.Ordinal);
        Assert.Equal(prompt, ToolPrompt.Build(ToolSet.FromOptions(new ChatOptions { Tools = [Weather, Time] })!));
    }
}
