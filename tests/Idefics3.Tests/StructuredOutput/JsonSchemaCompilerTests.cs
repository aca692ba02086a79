using System.Text;
using Idefics3.StructuredOutput;

namespace Idefics3.Tests.StructuredOutput;

public class JsonSchemaCompilerTests
{
    [Theory]
    [InlineData("""{"oneOf":[{"type":"string"}]}""", "oneOf")]
    [InlineData("""{"allOf":[{"type":"string"}]}""", "allOf")]
    [InlineData("""{"type":"number","multipleOf":3}""", "multipleOf")]
    [InlineData("""{"type":"array","uniqueItems":true}""", "uniqueItems")]
    [InlineData("""{"type":"object","patternProperties":{"a":{}}}""", "patternProperties")]
    [InlineData("""{"type":"object","properties":{"x":{"type":"string","format":"hostname"}}}""", "format")]
    [InlineData("""{"type":"string","pattern":"(?=a)b"}""", "pattern")]
    [InlineData("""{"type":"string","pattern":"^\\d+\\1$"}""", "pattern")]
    [InlineData("""{"$ref":"https://example.com/s.json"}""", "$ref")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "$ref")]
    [InlineData("""{"type":"integer","minimum":true}""", "minimum")]
    [InlineData("""{"type":"strin"}""", "type")]
    public void Unsupported_keywords_are_rejected_by_name(string schema, string keyword)
    {
        var ex = Assert.Throws<StructuredOutputSchemaException>(() => JsonSchemaCompiler.Compile(schema));
        Assert.Equal(keyword, ex.Keyword);
        Assert.Contains(keyword, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"type\":")]
    [InlineData("not json")]
    [InlineData("")]
    public void Malformed_schema_json_is_a_typed_error(string schema)
    {
        var ex = Assert.Throws<StructuredOutputSchemaException>(() => JsonSchemaCompiler.Compile(schema));
        Assert.Contains("not valid JSON", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"enum":[]}""")]
    [InlineData("""{"type":"object","properties":{"a":{"enum":[]}},"required":["a"]}""")]
    [InlineData("false")]
    [InlineData("""{"type":"object","properties":{"self":{"$ref":"#"}},"required":["self"]}""")]
    [InlineData("""{"type":"integer","minimum":5,"maximum":4}""")]
    [InlineData("""{"type":"string","enum":[1,2]}""")]
    public void Schemas_that_allow_nothing_are_a_typed_error(string schema)
    {
        var ex = Assert.Throws<StructuredOutputSchemaException>(() => JsonSchemaCompiler.Compile(schema));
        Assert.Contains("allows no value", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Absurdly_large_enums_and_schemas_are_typed_errors_and_large_ones_work()
    {
        string Enum(int n) => "{\"enum\":[" + string.Join(',', Enumerable.Range(0, n).Select(i => $"\"v{i}\"")) + "]}";
        var ex = Assert.Throws<StructuredOutputSchemaException>(() => JsonSchemaCompiler.Compile(Enum(20_000)));
        Assert.Equal("enum", ex.Keyword);

        var matcher = new ByteMatcher(JsonSchemaCompiler.Compile(Enum(5_000)));
        Assert.True(ByteMatcher.MustEnd(matcher.Advance(matcher.Start, "\"v4999\""u8)));
        Assert.True(matcher.Advance(matcher.Start, "\"v5000"u8).IsDead);

        var sb = new StringBuilder("{\"type\":\"object\",\"properties\":{");
        sb.AppendJoin(',', Enumerable.Range(0, 30_000).Select(i => $"\"p{i}\":{{\"type\":\"string\"}}"));
        sb.Append("}}");
        ex = Assert.Throws<StructuredOutputSchemaException>(() => JsonSchemaCompiler.Compile(sb.ToString()));
        Assert.Contains("too large", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Annotations_are_ignored_and_true_schemas_mean_any_value()
    {
        var grammar = JsonSchemaCompiler.Compile("""{"$schema":"https://json-schema.org/draft/2020-12/schema","title":"t","description":"d","$comment":"c","type":"object","properties":{"o":true,"j":{}},"default":{}}""");
        var matcher = new ByteMatcher(grammar);
        Assert.True(ByteMatcher.MustEnd(matcher.Advance(matcher.Start, """{"o":[1,{"x":null}],"j":"s"}"""u8)));
    }

    [Fact]
    public void The_grammar_cache_compiles_each_schema_once()
    {
        var cache = new JsonGrammarCache(capacity: 2);
        JsonGrammar a = cache.GetOrCompile("""{"type":"string"}""");
        Assert.Same(a, cache.GetOrCompile("""{"type":"string"}"""));
        Assert.Same(cache.GetOrCompile(null), cache.GetOrCompile(null));
        cache.GetOrCompile("""{"type":"number"}""");
        Assert.Equal(2, cache.Count);
        Assert.NotSame(a, cache.GetOrCompile("""{"type":"string"}""")); // evicted, compiled again
    }
}
