using System.Globalization;
using System.Text.RegularExpressions;

namespace Idefics3.Tokenization;

/// <summary>
/// A pre-tokenizer regex that matches code points, as Hugging Face's Rust tokenizers (Oniguruma) do, not UTF-16 units
/// as .NET's <see cref="Regex"/> does. In .NET a letter outside the Basic Multilingual Plane (mathematical italic
/// <c>𝑥</c>, CJK Extension B, Deseret, ...) is two surrogate chars of category <c>Cs</c>, so <c>\p{L}</c> does not match
/// it and <c>\p{N}{1,3}</c> counts units. Text with such code points is matched on a stand-in string that has one BMP
/// char of the same Unicode general category per code point; match positions are mapped back to the original text.
/// </summary>
/// <remarks>
/// Categories come from .NET's Unicode tables (<see cref="CharUnicodeInfo.GetUnicodeCategory(int)"/>). Where they are
/// older than Hugging Face's, a newly assigned letter is "unassigned" here; docs/processor.md lists the known cases.
/// A stand-in is chosen so that no case-insensitive literal of the known patterns (<c>'s</c>, <c>'t</c>, ...) can match
/// it and it is not whitespace or a line break.
/// </remarks>
internal sealed class CodePointRegex
{
    private readonly Regex _regex;

    /// <summary>Initializes a new instance of the <see cref="CodePointRegex"/> class.</summary>
    /// <param name="pattern">The pattern (Hugging Face / Oniguruma syntax that .NET also accepts).</param>
    public CodePointRegex(string pattern)
    {
        _regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
    }

    /// <summary>Adds the pieces of <paramref name="text"/> to <paramref name="output"/>: each match and each gap between matches (<c>Isolated</c>), or only the gaps (<c>Removed</c>).</summary>
    /// <param name="text">The text.</param>
    /// <param name="keepMatches">True for Hugging Face's <c>Isolated</c> behaviour, false for <c>Removed</c>.</param>
    /// <param name="output">Receives the non-empty pieces in order.</param>
    public void Split(string text, bool keepMatches, List<string> output)
    {
        int[]? starts = null;
        string subject = text;
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0)
        {
            (subject, starts) = StandIn(text);
        }

        int last = 0;
        foreach (var m in _regex.EnumerateMatches(subject))
        {
            if (m.Length == 0)
            {
                continue;
            }

            int start = starts is null ? m.Index : starts[m.Index];
            int end = starts is null ? m.Index + m.Length : starts[m.Index + m.Length];
            if (start > last)
            {
                output.Add(text[last..start]);
            }

            if (keepMatches)
            {
                output.Add(text[start..end]);
            }

            last = end;
        }

        if (last < text.Length)
        {
            output.Add(text[last..]);
        }
    }

    /// <summary>The BMP char used for a code point outside the BMP of the given category.</summary>
    /// <param name="category">The code point's category.</param>
    /// <returns>A BMP char of the same category.</returns>
    internal static char StandInFor(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => '\u0416', // Ж
        UnicodeCategory.LowercaseLetter => '\u0436', // ж
        UnicodeCategory.TitlecaseLetter => '\u01C5', // ǅ
        UnicodeCategory.ModifierLetter => '\u02B0', // ʰ
        UnicodeCategory.OtherLetter => '\u05D0', // א
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\u0660', // ٠
        UnicodeCategory.LetterNumber => '\u2160', // Ⅰ
        UnicodeCategory.OtherNumber => '\u00B2', // ²
        UnicodeCategory.ConnectorPunctuation => '\u203F', // ‿
        UnicodeCategory.DashPunctuation => '\u2010', // ‐
        UnicodeCategory.OpenPunctuation => '\u2045', // ⁅
        UnicodeCategory.ClosePunctuation => '\u2046', // ⁆
        UnicodeCategory.InitialQuotePunctuation => '\u00AB', // «
        UnicodeCategory.FinalQuotePunctuation => '\u00BB', // »
        UnicodeCategory.OtherPunctuation => '\u203B', // ※
        UnicodeCategory.MathSymbol => '\u2213', // ∓
        UnicodeCategory.CurrencySymbol => '\u00A4', // ¤
        UnicodeCategory.ModifierSymbol => '\u02C2', // ˂
        UnicodeCategory.OtherSymbol => '\u2302', // ⌂
        UnicodeCategory.Format => '\u2060', // word joiner
        UnicodeCategory.PrivateUse => '\uE000',
        _ => '\u0378', // unassigned (no control, separator or surrogate code point lies outside the BMP)
    };

    /// <summary>One char per code point, and where each stand-in char starts in the original text (plus the end).</summary>
    private static (string Subject, int[] Starts) StandIn(string text)
    {
        var chars = new char[text.Length];
        var starts = new int[text.Length + 1];
        int n = 0;
        int i = 0;
        while (i < text.Length)
        {
            starts[n] = i;
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                chars[n++] = StandInFor(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(c, text[i + 1])));
                i += 2;
            }
            else
            {
                chars[n++] = c;
                i++;
            }
        }

        starts[n] = text.Length;
        return (new string(chars, 0, n), starts);
    }
}
