using Idefics3.Templates;
using Idefics3.Tests;

namespace Idefics3.Tests.Templates;

public class JinjaSubsetTests
{
    private static string Render(string template, string messagesJson = "[]", bool addGenerationPrompt = false)
        => ChatTemplate.Parse(template).RenderJson(messagesJson, addGenerationPrompt);

    [Fact]
    public void SmolVLM2_template_accepts_system_string_content_and_video()
    {
        var template = ChatTemplate.FromDirectory(TestFixtures.PathOf("smolvlm2"))!;
        string messages = """
            [{"role":"system","content":"  Be brief. "},
             {"role":"user","content":[{"type":"video"},{"type":"text","text":"What happens?"}]},
             {"role":"assistant","content":[{"type":"text","text":"A cat jumps."}]},
             {"role":"user","content":[{"type":"text","text":"And then"},{"type":"image"}]}]
            """;
        Assert.Equal(
            "<|im_start|>System: Be brief.<end_of_utterance>\nUser:<video>What happens?<end_of_utterance>\nAssistant: A cat jumps.<end_of_utterance>\nUser: And then<image><end_of_utterance>\nAssistant:",
            template.RenderJson(messages, true));
    }

    [Fact]
    public void ChatML_template_with_default_system_prompt_renders()
    {
        string t = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are helpful.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        Assert.Equal(
            "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            Render(t, """[{"role":"user","content":"Hi"}]""", addGenerationPrompt: true));
    }

    [Fact]
    public void Loop_variables_and_set_work()
    {
        string t = "{% set sep = ', ' %}{% for m in messages %}{% if not loop.first %}{{ sep }}{% endif %}{{ loop.index }}:{{ m['role'] | upper }}{% if loop.last %}.{% endif %}{% endfor %}";
        Assert.Equal("1:USER, 2:ASSISTANT.", Render(t, """[{"role":"user"},{"role":"assistant"}]"""));
    }

    [Fact]
    public void Whitespace_control_strips_around_tags()
    {
        Assert.Equal("a|b|", Render("{% for x in ['a', 'b'] -%}\n   {{ x }}|\n{%- endfor %}"));
    }

    [Fact]
    public void Trim_blocks_and_lstrip_blocks_are_on_like_hugging_face()
    {
        Assert.Equal("x\ny\n", Render("{% for v in ['x', 'y'] %}\n    {% if true %}\n{{ v }}\n    {% endif %}\n{% endfor %}"));
    }

    [Fact]
    public void Namespace_assignment_survives_the_loop_scope()
    {
        string t = "{% set ns = namespace(n=0) %}{% set plain = 0 %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% set plain = plain + 1 %}{% endfor %}{{ ns.n }}/{{ plain }}";
        Assert.Equal("3/0", Render(t, "[1,2,3]"));
    }

    [Fact]
    public void Expressions_cover_comparisons_membership_concat_and_inline_if()
    {
        string t = "{{ 'a' ~ (1 + 2) }}|{{ 'b' in 'abc' and not 'z' in 'abc' }}|{{ 3 if 2 > 1 else 4 }}|{{ messages[-1] }}|{{ messages[1:] | length }}|{{ 'x' is string }}|{{ undefined_thing is defined }}|{{ ' hi '.strip() }}|{{ 7 // 2 }},{{ 7 % 3 }}";
        Assert.Equal("a3|True|3|3|2|True|False|hi|3,1", Render(t, "[1,2,3]"));
    }

    [Theory]
    [InlineData("{% macro m() %}{% endmacro %}", "macro", 1, 4)]
    [InlineData("ok\n  {{ x | wordcount }}", "filter 'wordcount'", 2, 8)]
    [InlineData("{% for x in y %}", "endfor", 1, 17)]
    [InlineData("{{ 'a' ", "}}", 1, 8)]
    public void Unsupported_or_broken_constructs_throw_with_their_position(string template, string named, int line, int column)
    {
        var ex = Assert.ThrowsAny<TemplateException>(() => Render(template));
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
        Assert.Equal(line, ex.Line);
        Assert.Equal(column, ex.Column);
    }

    [Fact]
    public void Raise_exception_surfaces_the_template_message()
    {
        var ex = Assert.Throws<TemplateException>(() => Render("{{ raise_exception('Only user and assistant roles are supported!') }}"));
        Assert.Contains("Only user and assistant roles are supported!", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Attribute_of_undefined_is_an_error()
    {
        Assert.Throws<TemplateException>(() => Render("{{ missing.field }}"));
    }
}
