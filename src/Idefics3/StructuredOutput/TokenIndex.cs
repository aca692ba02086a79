using System.Diagnostics;
using System.Text.Unicode;
using Idefics3.Tokenization;

namespace Idefics3.StructuredOutput;

/// <summary>
/// Everything the constraint needs to know about a vocabulary, built once per loaded model and shared by every
/// request: the bytes of each token (byte-level BPE alphabet mapped back to bytes), a flat trie of all ordinary tokens,
/// and for the string-content fast path the set of "plain" tokens (valid UTF-8 without quote, backslash or control
/// characters, allowed wholesale inside a string) plus a second trie of the other tokens. Added/special tokens and
/// end tokens are kept out of the tries; end tokens are governed by the constraint; ids past the tokenizer's size
/// are always masked.
/// </summary>
internal sealed class TokenIndex
{
    private readonly byte[]?[] _bytes;
    private readonly int[] _plainByLength;   // plain token ids, sorted by UTF-16 length
    private readonly int[] _plainLengths;    // their UTF-16 lengths, ascending
    private readonly ulong[] _allPlain;      // bit set of every plain token

    private TokenIndex(byte[]?[] bytes, int[] endIds, TimeSpan buildTime)
    {
        _bytes = bytes;
        EndTokenIds = endIds;
        BuildTime = buildTime;
        var all = new List<(int, byte[])>();
        var other = new List<(int, byte[])>();
        var plain = new List<(int Id, int Length)>();
        _allPlain = new ulong[(bytes.Length + 63) / 64];
        for (int id = 0; id < bytes.Length; id++)
        {
            if (bytes[id] is not { } b)
            {
                continue;
            }

            all.Add((id, b));
            if (IsPlain(b))
            {
                plain.Add((id, System.Text.Encoding.UTF8.GetCharCount(b)));
                _allPlain[id >> 6] |= 1UL << (id & 63);
            }
            else
            {
                other.Add((id, b));
            }
        }

        plain.Sort((x, y) => x.Length != y.Length ? x.Length.CompareTo(y.Length) : x.Id.CompareTo(y.Id));
        _plainByLength = plain.Select(p => p.Id).ToArray();
        _plainLengths = plain.Select(p => p.Length).ToArray();
        Trie = new TokenTrie(all);
        NonPlainTrie = new TokenTrie(other);
    }

    /// <summary>Gets the number of token ids the tokenizer defines (logits beyond are always masked).</summary>
    public int VocabularySize => _bytes.Length;

    /// <summary>Gets the end-of-sequence ids.</summary>
    public IReadOnlyList<int> EndTokenIds { get; }

    /// <summary>Gets the trie of every ordinary token.</summary>
    public TokenTrie Trie { get; }

    /// <summary>Gets the trie of the ordinary tokens that are not plain string content.</summary>
    public TokenTrie NonPlainTrie { get; }

    /// <summary>Gets how long building the index took.</summary>
    public TimeSpan BuildTime { get; }

    /// <summary>Gets the number of plain string-content tokens.</summary>
    public int PlainCount => _plainByLength.Length;

    /// <summary>Builds the index of a tokenizer's vocabulary.</summary>
    /// <param name="tokenizer">The tokenizer.</param>
    /// <param name="endTokenIds">The ids that end generation (generation config and model config).</param>
    public static TokenIndex Build(HuggingFaceTokenizer tokenizer, IEnumerable<int> endTokenIds)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(endTokenIds);
        var watch = Stopwatch.StartNew();
        int[] ends = endTokenIds.Distinct().Where(id => id >= 0).ToArray();
        var excluded = new HashSet<int>(tokenizer.SpecialTokenIds);
        excluded.UnionWith(tokenizer.AddedTokens.Select(t => t.Id));
        excluded.UnionWith(ends);
        var bytes = new byte[]?[tokenizer.VocabularySize];
        var buffer = new List<byte>(64);
        for (int id = 0; id < bytes.Length; id++)
        {
            if (excluded.Contains(id) || tokenizer.IdToToken(id) is not { } token)
            {
                continue;
            }

            buffer.Clear();
            ByteLevelAlphabet.AppendTokenBytes(token, buffer);
            if (buffer.Count > 0)
            {
                bytes[id] = [.. buffer];
            }
        }

        return new TokenIndex(bytes, ends, watch.Elapsed);
    }

    /// <summary>Builds an index from explicit token bytes (tests): null entries are excluded tokens.</summary>
    internal static TokenIndex FromBytes(byte[]?[] bytes, IEnumerable<int> endTokenIds)
    {
        var watch = Stopwatch.StartNew();
        return new TokenIndex([.. bytes], [.. endTokenIds], watch.Elapsed);
    }

    /// <summary>The bytes of a token, or null for excluded ids (special, added, end, unknown).</summary>
    public byte[]? BytesOf(int id) => (uint)id < (uint)_bytes.Length ? _bytes[id] : null;

    /// <summary>True when <paramref name="id"/> is an end-of-sequence id.</summary>
    public bool IsEnd(int id) => Array.IndexOf((int[])EndTokenIds, id) >= 0;

    /// <summary>Sets in <paramref name="bits"/> every plain token of at most <paramref name="maxLength"/> UTF-16 units.</summary>
    public void MarkPlain(ulong[] bits, int maxLength)
    {
        if (_plainLengths.Length == 0 || maxLength <= 0)
        {
            return;
        }

        if (maxLength >= _plainLengths[^1])
        {
            for (int i = 0; i < _allPlain.Length; i++)
            {
                bits[i] |= _allPlain[i];
            }

            return;
        }

        for (int i = 0; i < _plainByLength.Length && _plainLengths[i] <= maxLength; i++)
        {
            int id = _plainByLength[i];
            bits[id >> 6] |= 1UL << (id & 63);
        }
    }

    /// <summary>
    /// True when a token is plain string content: valid, complete UTF-8 with no control character, quote or backslash.
    /// Inside a string such a token only adds characters, so whether it is allowed depends on the length left only.
    /// </summary>
    private static bool IsPlain(byte[] bytes)
    {
        foreach (byte b in bytes)
        {
            if (b < 0x20 || b == '"' || b == '\\')
            {
                return false;
            }
        }

        return Utf8.IsValid(bytes);
    }
}
