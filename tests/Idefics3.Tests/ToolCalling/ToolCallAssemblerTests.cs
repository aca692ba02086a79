using System.Text.Json;
using Idefics3.ToolCalling;
using Microsoft.Extensions.AI;

namespace Idefics3.Tests.ToolCalling;

public sealed class ToolCallAssemblerTests
{
    private const string Weather = "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\",\"days\":2}}</tool_call>";
    private const string Time = "<tool_call>{\"name\":\"get_time\",\"arguments\":{}}</tool_call>";

    [Fact]
    public void Text_before_a_call_stays_text_and_the_call_has_its_name_arguments_and_a_fresh_id()
    {
        List<AIContent> contents = ToolCallAssembler.ParseAll(" Let me check. " + Weather);

        Assert.Equal(2, contents.Count);
        Assert.Equal(" Let me check.", Assert.IsType<TextContent>(contents[0]).Text);
        FunctionCallContent call = Assert.IsType<FunctionCallContent>(contents[1]);
        Assert.Equal("get_weather", call.Name);
        Assert.StartsWith("call_", call.CallId, StringComparison.Ordinal);
        Assert.Equal("Paris", ((JsonElement)call.Arguments!["city"]!).GetString());
        Assert.Equal(2, ((JsonElement)call.Arguments["days"]!).GetInt32());
        Assert.Null(call.Exception);
    }

    [Fact]
    public void A_closing_tag_inside_a_string_argument_belongs_to_the_argument()
    {
        const string text = " <tool_call>{\"name\":\"note\",\"arguments\":{\"text\":\"a </tool_call> b \\\" }\"}}</tool_call>";

        FunctionCallContent call = Assert.IsType<FunctionCallContent>(Assert.Single(ToolCallAssembler.ParseAll(text)));

        Assert.Equal("note", call.Name);
        Assert.Equal("a </tool_call> b \" }", ((JsonElement)call.Arguments!["text"]!).GetString());
    }

    [Fact]
    public void Several_calls_get_distinct_ids_and_the_separators_are_not_text()
    {
        List<AIContent> contents = ToolCallAssembler.ParseAll(" " + Weather + "\n" + Time + "\n");

        FunctionCallContent[] calls = [.. contents.Cast<FunctionCallContent>()];
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c.Name));
        Assert.NotEqual(calls[0].CallId, calls[1].CallId);
        Assert.Empty(calls[1].Arguments!);
    }

    [Fact]
    public void Text_without_a_call_is_returned_unchanged_including_look_alike_markup()
    {
        const string text = " A <tool and a <tool_cal but no call. \n";

        List<AIContent> contents = ToolCallAssembler.ParseAll(text);

        Assert.Equal(text, string.Concat(contents.Cast<TextContent>().Select(t => t.Text)));
    }

    [Fact]
    public void An_unclosed_call_at_the_end_is_returned_as_text_not_dropped()
    {
        const string text = " Hi <tool_call>{\"name\":\"get_weather\",\"argu";

        List<AIContent> contents = ToolCallAssembler.ParseAll(text);

        Assert.Equal(" Hi" + "<tool_call>{\"name\":\"get_weather\",\"argu", string.Concat(contents.Cast<TextContent>().Select(t => t.Text)));
    }

    [Fact]
    public void A_named_call_with_broken_arguments_carries_the_parse_error_for_the_invoker()
    {
        FunctionCallContent call = Assert.IsType<FunctionCallContent>(Assert.Single(ToolCallAssembler.ParseAll("<tool_call>{\"name\":\"f\",\"arguments\":[1]}</tool_call>")));

        Assert.Equal("f", call.Name);
        Assert.IsType<JsonException>(call.Exception);
    }

    [Fact]
    public void A_call_without_a_name_stays_text()
    {
        TextContent text = Assert.IsType<TextContent>(Assert.Single(ToolCallAssembler.ParseAll("<tool_call>{\"x\":1}</tool_call>")));

        Assert.Equal("<tool_call>{\"x\":1}</tool_call>", text.Text);
    }

    [Theory]
    [InlineData(" Let me check. " + Weather + "\n" + Time)]
    [InlineData(" plain text with a < sign and <tool_ mention \n ")]
    [InlineData(Weather + "\n" + Weather)]
    [InlineData(" Hi <tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"</tool\"}}</tool_call> bye")]
    public void Streaming_in_any_split_gives_the_non_streaming_content_and_never_leaks_markup(string output)
    {
        List<AIContent> whole = ToolCallAssembler.ParseAll(output);
        var random = new Random(7);
        for (int trial = 0; trial < 50; trial++)
        {
            var assembler = new ToolCallAssembler();
            var streamed = new List<AIContent>();
            int position = 0;
            while (position < output.Length)
            {
                int length = Math.Min(output.Length - position, random.Next(1, 6));
                List<AIContent> delta = assembler.Append(output.Substring(position, length));
                Assert.DoesNotContain(delta.OfType<TextContent>(), t => output.Contains("</tool_call>", StringComparison.Ordinal) && t.Text.Contains("<tool_call>", StringComparison.Ordinal));
                streamed.AddRange(delta);
                position += length;
            }

            streamed.AddRange(assembler.Flush());
            Assert.Equal(Describe(whole), Describe(streamed));
        }
    }

    private static string Describe(List<AIContent> contents)
    {
        var parts = new List<string>();
        string text = string.Empty;
        foreach (AIContent content in contents)
        {
            if (content is TextContent t)
            {
                text += t.Text;
                continue;
            }

            if (text.Length > 0)
            {
                parts.Add("text:" + text);
                text = string.Empty;
            }

            FunctionCallContent call = (FunctionCallContent)content;
            parts.Add($"call:{call.Name}:{JsonSerializer.Serialize(call.Arguments)}");
        }

        if (text.Length > 0)
        {
            parts.Add("text:" + text);
        }

        return string.Join("|", parts);
    }
}
