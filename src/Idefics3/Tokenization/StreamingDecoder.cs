using System.Text;

namespace Idefics3.Tokenization;

/// <summary>
/// Incremental detokenizer for streamed generation. Each <see cref="Append"/> returns the text that became complete;
/// a UTF-8 sequence split across tokens (emoji, CJK) is held back until its last byte arrives, so no broken character
/// is ever emitted. The concatenation of all returned pieces plus <see cref="Flush"/> equals
/// <see cref="HuggingFaceTokenizer.Decode"/> of all ids. Not thread-safe: use one instance per stream.
/// </summary>
internal sealed class StreamingDecoder
{
    private readonly HuggingFaceTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<byte> _pending = new(16);

    internal StreamingDecoder(HuggingFaceTokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>Adds one generated id and returns the newly completed text (possibly empty).</summary>
    /// <param name="id">The token id.</param>
    /// <returns>The text that can be shown now.</returns>
    public string Append(int id)
    {
        _tokenizer.AppendIdBytes(id, _skipSpecialTokens, _pending);
        int cut = CompletePrefixLength(_pending);
        if (cut == 0)
        {
            return string.Empty;
        }

        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending)[..cut];
        string text = Encoding.UTF8.GetString(span);
        _pending.RemoveRange(0, cut);
        return text;
    }

    /// <summary>Returns whatever is still held back (an incomplete sequence becomes U+FFFD) and resets the decoder.</summary>
    /// <returns>The remaining text.</returns>
    public string Flush()
    {
        string text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return text;
    }

    /// <summary>Length of the prefix that does not end inside a possibly still incomplete UTF-8 sequence.</summary>
    private static int CompletePrefixLength(List<byte> bytes)
    {
        int n = bytes.Count;
        int lookBack = Math.Min(3, n);
        for (int k = 1; k <= lookBack; k++)
        {
            byte b = bytes[n - k];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }

            int needed = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xC2 && b <= 0xDF ? 2 : 1;
            return needed > k ? n - k : n;
        }

        return n;
    }
}
