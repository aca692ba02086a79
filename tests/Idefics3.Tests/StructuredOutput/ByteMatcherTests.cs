using System.Text;
using Idefics3.StructuredOutput;

namespace Idefics3.Tests.StructuredOutput;

public class ByteMatcherTests
{
    private static (bool Live, bool Complete, bool MustEnd) Run(string schema, string text, string prefix = "", string suffix = "")
    {
        var matcher = new ByteMatcher(JsonSchemaCompiler.Compile(schema), Encoding.UTF8.GetBytes(prefix), Encoding.UTF8.GetBytes(suffix));
        MatcherState state = matcher.Advance(matcher.Start, Encoding.UTF8.GetBytes(text));
        return (!state.IsDead, ByteMatcher.IsComplete(state), ByteMatcher.MustEnd(state));
    }

    private const string Person = """{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150},"tags":{"type":"array","items":{"type":"string"},"maxItems":2},"nick":{"type":["string","null"]}},"required":["name"]}""";

    [Theory]
    [InlineData("""{"name":"Ann","age":42,"tags":["a","b"],"nick":null}""")]
    [InlineData(""" {"name": "Ann", "age": 0, "tags": [], "nick": "x"}""")]
    [InlineData("{\n  \"name\": \"Zoë 😀\",\n  \"age\": 150,\n  \"tags\": [\"\\n\"],\n  \"nick\": null\n}")]
    public void Valid_documents_are_accepted_and_end_the_output(string text)
    {
        var (live, complete, mustEnd) = Run(Person, text);
        Assert.True(live);
        Assert.True(complete);
        Assert.True(mustEnd);
    }

    [Theory]
    [InlineData("""{"age":42}""")] // properties come in schema order, all of them
    [InlineData("""{"name":"Ann","age":151""")] // above the maximum
    [InlineData("""{"name":"Ann","age":-1""")] // below the minimum
    [InlineData("""{"name":"Ann","age":042""")] // leading zero
    [InlineData("""{"name":"Ann","age":4.5""")] // integer
    [InlineData("""{"name":"Ann","age":1,"tags":["a","b","c"]""")] // maxItems
    [InlineData("""{"name":"A\u0041""")] // no \u escapes
    [InlineData("{\"name\":\"a\tb\"")] // raw control character
    [InlineData("  {")] // at most one space before the root
    [InlineData("""{"name":"Ann","age":1,"tags":[],"nick":null} """)] // nothing after the document
    public void Invalid_prefixes_are_rejected(string text) => Assert.False(Run(Person, text).Live);

    [Fact]
    public void A_token_ending_inside_a_multibyte_character_waits_for_the_rest()
    {
        byte[] euro = Encoding.UTF8.GetBytes("€"); // E2 82 AC
        var matcher = new ByteMatcher(JsonSchemaCompiler.Compile("""{"type":"string"}"""));
        MatcherState s = matcher.Advance(matcher.Start, (byte)'"');
        s = matcher.Advance(s, euro.AsSpan(0, 2));
        Assert.False(s.IsDead);
        Assert.True(matcher.Advance(s, (byte)'"').IsDead); // the character is unfinished
        Assert.True(matcher.Advance(s, (byte)'A').IsDead);
        s = matcher.Advance(s, euro[2]);
        Assert.True(ByteMatcher.MustEnd(matcher.Advance(s, (byte)'"')));
        Assert.True(matcher.Advance(matcher.Advance(matcher.Start, (byte)'"'), [0xED, 0xA0]).IsDead); // no surrogates
        Assert.True(matcher.Advance(matcher.Advance(matcher.Start, (byte)'"'), [0xC0]).IsDead); // no overlong forms
    }

    [Fact]
    public void Numbers_end_only_in_range_and_a_root_number_is_complete_but_may_continue()
    {
        var (live, complete, mustEnd) = Run("""{"type":"number","minimum":0.5,"exclusiveMaximum":10}""", "9.999999");
        Assert.True(live && complete && !mustEnd);
        Assert.False(Run("""{"type":"number","minimum":0.5}""", "0.4").Live);
        Assert.True(Run("""{"type":"number","minimum":0.5}""", "0.").Live);
        Assert.False(Run("""{"type":"number","exclusiveMaximum":10}""", "10").Complete);
        Assert.False(Run("""{"type":"integer"}""", "-0").Complete);
        Assert.False(Run("""{"type":"integer"}""", "1234567890").Live); // at most 9 digits without bounds
    }

    [Fact]
    public void Enums_consts_and_nullable_enums_match_exactly()
    {
        const string schema = """{"type":["string","null"],"enum":["Red","Green",null]}""";
        Assert.True(Run(schema, "\"Green\"").MustEnd);
        Assert.True(Run(schema, "null").MustEnd);
        Assert.False(Run(schema, "\"Blue").Live);
        Assert.True(Run("""{"const":12}""", "1").Live);
        Assert.False(Run("""{"const":12}""", "1").Complete);
        Assert.True(Run("""{"const":12}""", "12").Complete);
    }

    [Fact]
    public void Polymorphic_anyOf_with_type_discriminator_follows_the_chosen_branch()
    {
        const string schema = """{"type":"object","required":["$type"],"anyOf":[{"properties":{"$type":{"const":"circle"},"r":{"type":"number"}}},{"properties":{"$type":{"const":"square"},"s":{"type":"number"}}}]}""";
        Assert.True(Run(schema, """{"$type":"circle","r":1.5}""").MustEnd);
        Assert.True(Run(schema, """{"$type":"square","s":2}""").MustEnd);
        Assert.False(Run(schema, """{"$type":"circle","s""").Live);
    }

    [Fact]
    public void Recursive_refs_nest_and_terminate_with_null()
    {
        const string schema = """{"type":"object","properties":{"value":{"type":"integer"},"next":{"type":["object","null"],"properties":{"value":{"type":"integer"},"next":{"$ref":"#/properties/next"}}}}}""";
        Assert.True(Run(schema, """{"value":1,"next":{"value":2,"next":{"value":3,"next":null}}}""").MustEnd);
        Assert.True(Run("""{"$defs":{"n":{"type":"object","properties":{"c":{"type":"array","items":{"$ref":"#/$defs/n"}}}}},"$ref":"#/$defs/n"}""", """{"c":[{"c":[]},{"c":[{"c":[]}]}]}""").MustEnd);
    }

    [Theory]
    [InlineData("date", "\"2024-02-28\"", true)]
    [InlineData("date", "\"2024-02-30\"", false)]
    [InlineData("time", "\"23:59:59\"", true)]
    [InlineData("date-time", "\"2024-01-15T10:30:00Z\"", true)]
    [InlineData("uuid", "\"0f8fad5b-d9cb-469f-a165-70867728950e\"", true)]
    [InlineData("uuid", "\"0f8fad5b\"", false)]
    [InlineData("uri", "\"https://example.com/a\"", true)]
    [InlineData("email", "\"ann@example.org\"", true)]
    public void Formats_accept_only_their_strict_shape(string format, string text, bool valid)
    {
        var (_, complete, _) = Run($$"""{"type":"string","format":"{{format}}"}""", text);
        Assert.Equal(valid, complete);
    }

    [Fact]
    public void Patterns_and_length_limits_hold_together()
    {
        const string schema = """{"type":"string","pattern":"^[a-z]+$","minLength":2,"maxLength":4}""";
        Assert.True(Run(schema, "\"abcd\"").MustEnd);
        Assert.False(Run(schema, "\"abcde").Live);
        Assert.False(Run(schema, "\"a\"").Live);
        Assert.False(Run(schema, "\"aB").Live);
        Assert.True(Run("""{"type":"string","pattern":"ab"}""", "\"xxabyy\"").MustEnd); // unanchored
    }

    [Fact]
    public void Free_form_json_and_dictionaries_are_accepted()
    {
        Assert.True(Run("""{"type":"object","additionalProperties":{"type":"integer"}}""", """{"a":1, "b":2}""").MustEnd);
        Assert.False(Run("""{"type":"object","additionalProperties":{"type":"integer"}}""", """{"a":"x""").Live);
        var matcher = new ByteMatcher(JsonSchemaCompiler.AnyObject());
        MatcherState s = matcher.Advance(matcher.Start, Encoding.UTF8.GetBytes("""{"a":[1,true,null,{"b":"c"}],"d":-0.5}"""));
        Assert.True(ByteMatcher.MustEnd(s));
        Assert.True(matcher.Advance(matcher.Start, (byte)'[').IsDead); // ChatResponseFormat.Json: an object
    }

    [Fact]
    public void Prefix_and_suffix_embed_the_document()
    {
        var (live, complete, mustEnd) = Run("""{"type":"object","properties":{"a":{"type":"integer"}}}""", "<tool_call>\n{\"a\":1}\n</tool_call>", "<tool_call>", "</tool_call>");
        Assert.True(live && complete && mustEnd);
        Assert.False(Run("""{"type":"object","properties":{"a":{"type":"integer"}}}""", "<tool_call>{\"a\":1}", "<tool_call>", "</tool_call>").Complete);
    }

    [Fact]
    public void Bytes_to_close_is_the_length_of_the_shortest_completion()
    {
        var matcher = new ByteMatcher(JsonSchemaCompiler.Compile(Person));
        Assert.Equal("""{"name":"","age":0,"tags":[],"nick":""}""".Length, ByteMatcher.BytesToClose(matcher.Start));
        MatcherState s = matcher.Advance(matcher.Start, Encoding.UTF8.GetBytes("""{"name":"Ann","age":4"""));
        Assert.Equal(""","tags":[],"nick":""}""".Length, ByteMatcher.BytesToClose(s));
    }
}
