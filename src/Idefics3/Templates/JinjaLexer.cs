using System.Text;

namespace Idefics3.Templates;

/// <summary>Kinds of template tokens.</summary>
internal enum TokKind
{
    Text,
    Name,
    String,
    Integer,
    Float,
    Op,
    OutputStart,
    OutputEnd,
    BlockStart,
    BlockEnd,
    End,
}

/// <summary>One template token with its position.</summary>
internal readonly record struct Tok(TokKind Kind, string Value, int Position);

/// <summary>
/// Splits a Jinja source into text and tag tokens, applying whitespace control (<c>{%-</c>, <c>-%}</c>) and the
/// <c>trim_blocks</c> / <c>lstrip_blocks</c> options Hugging Face enables for chat templates.
/// </summary>
internal static class JinjaLexer
{
    private static readonly string[] _operators =
    [
        "//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "<", ">", "=",
    ];

    public static List<Tok> Tokenize(string source, bool trimBlocks, bool lstripBlocks)
    {
        var raw = new List<Tok>();
        int i = 0;
        var text = new StringBuilder();
        int textStart = 0;
        bool pendingRightTrim = false;
        bool pendingTrimBlock = false;
        while (i < source.Length)
        {
            if (source[i] == '{' && i + 1 < source.Length && (source[i + 1] == '{' || source[i + 1] == '%' || source[i + 1] == '#'))
            {
                char kind = source[i + 1];
                int tagStart = i;
                bool leftTrim = i + 2 < source.Length && source[i + 2] == '-';
                bool leftPlus = i + 2 < source.Length && source[i + 2] == '+';
                string rawPre = text.ToString();
                bool stripLine = !leftTrim && lstripBlocks && kind != '{' && !leftPlus && IsAtLineStart(rawPre, textStart == 0);
                string pre = ApplyPendingTrims(rawPre, ref pendingRightTrim, ref pendingTrimBlock);
                if (leftTrim)
                {
                    pre = pre.TrimEnd();
                }
                else if (stripLine)
                {
                    pre = pre.TrimEnd(' ', '\t');
                }

                if (pre.Length > 0)
                {
                    raw.Add(new Tok(TokKind.Text, pre, textStart));
                }

                text.Clear();
                int bodyStart = i + 2 + (leftTrim || leftPlus ? 1 : 0);
                if (kind == '#')
                {
                    int close = source.IndexOf("#}", bodyStart, StringComparison.Ordinal);
                    if (close < 0)
                    {
                        throw Error(source, tagStart, "unclosed comment '{#'");
                    }

                    pendingRightTrim = close > bodyStart && source[close - 1] == '-';
                    pendingTrimBlock = trimBlocks;
                    i = close + 2;
                    textStart = i;
                    continue;
                }

                raw.Add(new Tok(kind == '{' ? TokKind.OutputStart : TokKind.BlockStart, kind == '{' ? "{{" : "{%", tagStart));
                string closer = kind == '{' ? "}}" : "%}";
                i = LexExpression(source, bodyStart, closer, raw, out bool rightTrim);
                raw.Add(new Tok(kind == '{' ? TokKind.OutputEnd : TokKind.BlockEnd, closer, i - 2));
                pendingRightTrim = rightTrim;
                pendingTrimBlock = trimBlocks && kind == '%';
                textStart = i;
                continue;
            }

            text.Append(source[i]);
            i++;
        }

        string tail = ApplyPendingTrims(text.ToString(), ref pendingRightTrim, ref pendingTrimBlock);
        if (tail.Length > 0)
        {
            raw.Add(new Tok(TokKind.Text, tail, textStart));
        }

        raw.Add(new Tok(TokKind.End, string.Empty, source.Length));
        return raw;
    }

    /// <summary>Converts a character offset into a 1-based line and column and builds the exception.</summary>
    public static TemplateException Error(string source, int position, string message)
    {
        int line = 1;
        int column = 1;
        for (int k = 0; k < position && k < source.Length; k++)
        {
            if (source[k] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }

        return new TemplateException(message, line, column);
    }

    private static string ApplyPendingTrims(string text, ref bool rightTrim, ref bool trimBlock)
    {
        if (rightTrim)
        {
            text = text.TrimStart();
        }
        else if (trimBlock)
        {
            if (text.StartsWith("\r\n", StringComparison.Ordinal))
            {
                text = text[2..];
            }
            else if (text.StartsWith('\n'))
            {
                text = text[1..];
            }
        }

        rightTrim = false;
        trimBlock = false;
        return text;
    }

    private static bool IsAtLineStart(string text, bool atTemplateStart)
    {
        int k = text.Length;
        while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t'))
        {
            k--;
        }

        return k == 0 ? atTemplateStart : text[k - 1] == '\n';
    }

    /// <summary>
    /// Lexes the expression of a <c>{{ }}</c> or <c>{% %}</c> tag from <paramref name="i"/> up to its closer (with or
    /// without <c>-</c>); returns the position after the closer.
    /// </summary>
    private static int LexExpression(string source, int i, string closer, List<Tok> output, out bool rightTrim)
    {
        int depth = 0;
        while (true)
        {
            i = SkipWhitespace(source, i);
            if (i >= source.Length)
            {
                throw Error(source, i, $"missing '{closer}'");
            }

            if (TryClose(source, i, closer, out int end, out rightTrim))
            {
                return end;
            }

            char c = source[i];
            i = c switch
            {
                _ when char.IsLetter(c) || c == '_' => LexName(source, i, output),
                _ when char.IsDigit(c) => LexNumber(source, i, output),
                '\'' or '"' => LexString(source, i, output),
                _ => LexOperator(source, i, output, ref depth),
            };
        }
    }

    private static int SkipWhitespace(string source, int i)
    {
        while (i < source.Length && char.IsWhiteSpace(source[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>Whether the tag closes at <paramref name="i"/>: <c>-%}</c> (trims the text after) or <c>%}</c>.</summary>
    private static bool TryClose(string source, int i, string closer, out int end, out bool rightTrim)
    {
        rightTrim = source[i] == '-' && string.CompareOrdinal(source, i + 1, closer, 0, 2) == 0;
        if (rightTrim)
        {
            end = i + 3;
            return true;
        }

        end = i + 2;
        return string.CompareOrdinal(source, i, closer, 0, 2) == 0;
    }

    /// <summary>A name: letters, digits and underscores, not starting with a digit.</summary>
    private static int LexName(string source, int i, List<Tok> output)
    {
        int start = i;
        while (i < source.Length && (char.IsLetterOrDigit(source[i]) || source[i] == '_'))
        {
            i++;
        }

        output.Add(new Tok(TokKind.Name, source[start..i], start));
        return i;
    }

    /// <summary>An integer or float literal (underscores between digits are dropped, as Python does).</summary>
    private static int LexNumber(string source, int i, List<Tok> output)
    {
        int start = i;
        while (i < source.Length && (char.IsDigit(source[i]) || source[i] == '_'))
        {
            i++;
        }

        bool isFloat = i + 1 < source.Length && source[i] == '.' && char.IsDigit(source[i + 1]);
        if (isFloat)
        {
            i++;
            while (i < source.Length && char.IsDigit(source[i]))
            {
                i++;
            }
        }

        output.Add(new Tok(isFloat ? TokKind.Float : TokKind.Integer, source[start..i].Replace("_", string.Empty, StringComparison.Ordinal), start));
        return i;
    }

    /// <summary>A quoted string literal with Python's common escapes; an unknown escape is kept as written.</summary>
    private static int LexString(string source, int i, List<Tok> output)
    {
        int start = i;
        char quote = source[i++];
        var sb = new StringBuilder();
        while (true)
        {
            if (i >= source.Length)
            {
                throw Error(source, start, "unterminated string literal");
            }

            char ch = source[i];
            if (ch == quote)
            {
                output.Add(new Tok(TokKind.String, sb.ToString(), start));
                return i + 1;
            }

            if (ch == '\\' && i + 1 < source.Length)
            {
                AppendEscape(sb, source[i + 1]);
                i += 2;
                continue;
            }

            sb.Append(ch);
            i++;
        }
    }

    private static void AppendEscape(StringBuilder sb, char escaped)
    {
        char? value = escaped switch
        {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '\\' => '\\',
            '\'' => '\'',
            '"' => '"',
            _ => null,
        };
        if (value is char known)
        {
            sb.Append(known);
        }
        else
        {
            sb.Append('\\').Append(escaped);
        }
    }

    /// <summary>The longest operator at <paramref name="i"/>; brackets are counted against the nesting limit.</summary>
    private static int LexOperator(string source, int i, List<Tok> output, ref int depth)
    {
        string? op = null;
        foreach (string candidate in _operators)
        {
            if (string.CompareOrdinal(source, i, candidate, 0, candidate.Length) == 0)
            {
                op = candidate;
                break;
            }
        }

        if (op is null)
        {
            throw Error(source, i, $"unexpected character '{source[i]}'");
        }

        if (op is "(" or "[" or "{" && ++depth > JinjaLimits.MaxNestingDepth)
        {
            throw Error(source, i, $"brackets nested deeper than {JinjaLimits.MaxNestingDepth} levels");
        }

        if (op is ")" or "]" or "}")
        {
            depth--;
        }

        output.Add(new Tok(TokKind.Op, op, i));
        return i + op.Length;
    }
}
