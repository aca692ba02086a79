using System.Text.Json;

namespace Idefics3.Cli.Tests;

/// <summary><c>ask --json-schema</c> / <c>--json-object</c> on the tiny random model: the constraint alone makes the answer valid.</summary>
public sealed class AskJsonTests(TinyEngineFixture fixture) : IClassFixture<TinyEngineFixture>
{
    [Fact]
    public async Task Json_schema_answers_are_json_of_the_schema()
    {
        Assert.NotNull(fixture);
        string schemaFile = Path.Combine(Path.GetTempPath(), $"idefics3-schema-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(schemaFile, """{"type":"object","properties":{"vendor":{"type":"string","maxLength":20},"total":{"type":"number","minimum":0},"paid":{"type":"boolean"}},"required":["vendor","total","paid"]}""");
        try
        {
            CliResult result = await CliRunner.RunAsync([.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--quiet", "--temperature", "0", "--max-tokens", "120", "--json-schema", schemaFile, "Read the invoice."]);
            Assert.True(result.ExitCode == 0, result.ToString());
            using JsonDocument doc = JsonDocument.Parse(result.Stdout);
            Assert.Equal(JsonValueKind.String, doc.RootElement.GetProperty("vendor").ValueKind);
            Assert.True(doc.RootElement.GetProperty("total").GetDecimal() >= 0);
            Assert.Contains(doc.RootElement.GetProperty("paid").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        }
        finally
        {
            File.Delete(schemaFile);
        }
    }

    [Fact]
    public async Task Json_object_answers_are_objects()
    {
        CliResult result = await CliRunner.RunAsync([.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--quiet", "--temperature", "0", "--max-tokens", "60", "--json-object", "Anything."]);
        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
    }

    [Fact]
    public async Task An_unsupported_schema_is_a_usage_error_naming_the_keyword()
    {
        string schemaFile = Path.Combine(Path.GetTempPath(), $"idefics3-schema-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(schemaFile, """{"type":"object","properties":{"n":{"type":"integer","multipleOf":3}}}""");
        try
        {
            CliResult result = await CliRunner.RunAsync([.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--json-schema", schemaFile, "x"]);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("multipleOf", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(schemaFile);
        }
    }
}
