using System.ComponentModel;
using System.Text.Json;
using Json.Schema;
using Microsoft.Extensions.AI;

namespace Idefics3.Tests.ChatClient;

/// <summary>Tools and checks shared by the tool-calling tests: what was called, and whether its arguments fit the schema.</summary>
internal static class ToolTests
{
    /// <summary>Greedy options that require a call of one of <paramref name="tools"/> (the invoker relaxes this after the first round).</summary>
    public static ChatOptions Required(params AIFunction[] tools) =>
        new() { Tools = [.. tools], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false, Temperature = 0, MaxOutputTokens = 300 };

    /// <summary>Every call of <paramref name="tool"/> in the response has arguments that validate against its schema.</summary>
    public static void AssertArgumentsValid(AIFunction tool, ChatResponse response)
    {
        JsonSchema schema = JsonSchema.FromText(tool.JsonSchema.GetRawText());
        FunctionCallContent[] calls = [.. response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Where(c => c.Name == tool.Name)];
        Assert.NotEmpty(calls);
        foreach (FunctionCallContent call in calls)
        {
            JsonElement arguments = JsonSerializer.SerializeToElement(call.Arguments);
            Assert.True(schema.Evaluate(arguments).IsValid, $"{call.Name}: {arguments.GetRawText()}");
        }
    }

    /// <summary>The response as calls (name and arguments), results and text, without ids: what streaming must equal.</summary>
    public static string Describe(ChatResponse response) => string.Join(
        " | ",
        response.Messages.SelectMany(m => m.Contents).Select(c => c switch
        {
            FunctionCallContent call => $"call {call.Name} {JsonSerializer.Serialize(call.Arguments)}",
            FunctionResultContent result => $"result {JsonSerializer.Serialize(result.Result)}",
            TextContent text => $"text {text.Text}",
            _ => c.GetType().Name,
        }).Where(s => s != nameof(UsageContent)));

    /// <summary>Tools whose parameters cover the shapes AIFunctionFactory produces from ordinary C# signatures.</summary>
    public static AIFunction[] ManyShapes() =>
    [
        AIFunctionFactory.Create(() => 1, "no_parameters"),
        AIFunctionFactory.Create((string text, int count, long big, double ratio, decimal money, bool flag) => 1, "primitives"),
        AIFunctionFactory.Create((int? maybe, string? note, DayOfWeek day) => 1, "nullable_and_enum"),
        AIFunctionFactory.Create((DateTime when, DateOnly day, Guid id, Uri link) => 1, "formats"),
        AIFunctionFactory.Create((List<int> numbers, Dictionary<string, int> counts, Person[] people) => 1, "collections"),
        AIFunctionFactory.Create(([Description("A short title.")] string title, int pages = 3) => 1, "defaults", "Has a described and an optional parameter."),
    ];

    /// <summary>A nested parameter type.</summary>
    public sealed record Person(string Name, int Age, Address Address);

    /// <summary>A type nested in <see cref="Person"/>.</summary>
    public sealed record Address(string Street, string City);
}
