using System.Globalization;
using System.Text;

namespace Idefics3.Tokenization;

/// <summary>
/// Hugging Face's <c>Digits</c> pre-tokenizer: numeric code points (Rust's <c>char::is_numeric</c>, general categories
/// Nd, Nl and No, also outside the BMP) become their own pieces, each one alone (<c>individual_digits</c>) or runs of
/// them together.
/// </summary>
internal static class DigitSplitter
{
    /// <summary>Adds the pieces of <paramref name="text"/> to <paramref name="output"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="individual">Whether each digit is its own piece.</param>
    /// <param name="output">Receives the non-empty pieces in order.</param>
    public static void Split(string text, bool individual, List<string> output)
    {
        int start = 0;
        int i = 0;
        while (i < text.Length)
        {
            if (!IsNumeric(text, i, out int width))
            {
                i += width;
                continue;
            }

            int end = i + width;
            if (!individual)
            {
                while (end < text.Length && IsNumeric(text, end, out int next))
                {
                    end += next;
                }
            }

            if (i > start)
            {
                output.Add(text[start..i]);
            }

            output.Add(text[i..end]);
            start = i = end;
        }

        if (start < text.Length)
        {
            output.Add(text[start..]);
        }
    }

    private static bool IsNumeric(string text, int index, out int width)
    {
        if (Rune.DecodeFromUtf16(text.AsSpan(index), out Rune rune, out width) != System.Buffers.OperationStatus.Done)
        {
            width = 1;
            return false;
        }

        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
    }
}
