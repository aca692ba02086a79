using Idefics3.Templates;

namespace Idefics3.Tests.Templates;

/// <summary>The expression lexer: names, numbers, strings with Python's escapes, operators, closers and nesting.</summary>
public sealed class JinjaLexerTests
{
    private static List<Tok> Lex(string source) => JinjaLexer.Tokenize(source, trimBlocks: true, lstripBlocks: true);

    [Fact]
    public void An_expression_splits_into_names_numbers_strings_and_operators_with_their_positions()
    {
        List<Tok> tokens = Lex("{{ msg_1.role ~ 1_000 + 2.5 ~ 'a' }}");

        Assert.Equal(TokKind.OutputStart, tokens[0].Kind);
        Assert.Equal(
            new[]
            {
                (TokKind.Name, "msg_1", 3), (TokKind.Op, ".", 8), (TokKind.Name, "role", 9), (TokKind.Op, "~", 14), (TokKind.Integer, "1000", 16),
                (TokKind.Op, "+", 22), (TokKind.Float, "2.5", 24), (TokKind.Op, "~", 28), (TokKind.String, "a", 30),
            },
            tokens.Skip(1).Take(9).Select(t => (t.Kind, t.Value, t.Position)));
        Assert.Equal(TokKind.OutputEnd, tokens[10].Kind);
    }

    [Theory]
    [InlineData(@"'a\nb'", "a\nb")]
    [InlineData(@"'tab\there'", "tab\there")]
    [InlineData(@"""it\'s \""q\""""", "it's \"q\"")]
    [InlineData(@"'back\\slash'", @"back\slash")]
    [InlineData(@"'kept\q'", @"kept\q")] // Python keeps an unknown escape as written
    public void String_literals_decode_the_escapes_Python_decodes(string literal, string expected)
    {
        Tok token = Lex("{{ " + literal + " }}")[1];
        Assert.Equal(TokKind.String, token.Kind);
        Assert.Equal(expected, token.Value);
    }

    [Fact]
    public void A_dash_before_the_closer_trims_the_text_after_the_tag()
    {
        List<Tok> tokens = Lex("{{ x -}}   after");
        Assert.Equal("after", tokens.Last(t => t.Kind == TokKind.Text).Value);
    }

    [Theory]
    [InlineData("{{ 'open }}", "unterminated string literal")]
    [InlineData("{{ x", "missing '}}'")]
    [InlineData("{{ x $ y }}", "unexpected character '$'")]
    public void Malformed_expressions_throw_a_TemplateException_naming_the_problem(string source, string message)
    {
        TemplateException error = Assert.Throws<TemplateException>(() => Lex(source));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Brackets_nested_past_the_limit_are_refused()
    {
        string deep = "{{ " + new string('(', JinjaLimits.MaxNestingDepth + 1) + " }}";
        TemplateException error = Assert.Throws<TemplateException>(() => Lex(deep));
        Assert.Contains("nested deeper", error.Message, StringComparison.Ordinal);

        string limit = "{{ " + new string('(', JinjaLimits.MaxNestingDepth) + "x" + new string(')', JinjaLimits.MaxNestingDepth) + " }}";
        Assert.Equal((2 * JinjaLimits.MaxNestingDepth) + 1, Lex(limit).Count(t => t.Kind is TokKind.Op or TokKind.Name));
    }
}
