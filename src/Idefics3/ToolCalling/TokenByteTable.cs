using System.Runtime.CompilerServices;
using Idefics3.Tokenization;

namespace Idefics3.ToolCalling;

/// <summary>
/// The bytes every token id stands for (null for special tokens and ids without a token) and the end-of-sequence ids:
/// what the tool-call constraint checks literal protocol text against. Immutable; built once per tokenizer.
/// </summary>
internal sealed class TokenByteTable
{
    private static readonly ConditionalWeakTable<HuggingFaceTokenizer, TokenByteTable> Tables = new();
    private readonly byte[]?[] _bytes;

    /// <summary>Initializes a new instance of the <see cref="TokenByteTable"/> class.</summary>
    /// <param name="bytes">The bytes per id; null where the id can never be part of text.</param>
    /// <param name="endIds">The end-of-sequence ids.</param>
    public TokenByteTable(byte[]?[] bytes, IReadOnlySet<int> endIds)
    {
        _bytes = bytes;
        EndIds = endIds;
    }

    /// <summary>Gets the end-of-sequence ids.</summary>
    public IReadOnlySet<int> EndIds { get; }

    /// <summary>Gets the number of ids with an entry.</summary>
    public int Count => _bytes.Length;

    /// <summary>The table of <paramref name="tokenizer"/>, built on first use and shared while the tokenizer lives.</summary>
    /// <remarks>End-of-sequence ids are left to the sampler, which allows them exactly when the constraint is complete.</remarks>
    public static TokenByteTable For(HuggingFaceTokenizer tokenizer) =>
        Tables.GetValue(tokenizer, static t => FromTokenizer(t, new HashSet<int>()));

    /// <summary>Builds the table of <paramref name="tokenizer"/>.</summary>
    public static TokenByteTable FromTokenizer(HuggingFaceTokenizer tokenizer, IReadOnlySet<int> endIds)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var bytes = new byte[]?[tokenizer.VocabularySize];
        var buffer = new List<byte>();
        for (int id = 0; id < bytes.Length; id++)
        {
            if (tokenizer.SpecialTokenIds.Contains(id) || tokenizer.IdToToken(id) is null)
            {
                continue;
            }

            buffer.Clear();
            tokenizer.AppendIdBytes(id, skipSpecialTokens: false, buffer);
            bytes[id] = buffer.Count == 0 ? null : [.. buffer];
        }

        return new TokenByteTable(bytes, endIds);
    }

    /// <summary>The bytes of <paramref name="id"/>, or null for a special token or an id out of range.</summary>
    public byte[]? Bytes(int id) => (uint)id < (uint)_bytes.Length ? _bytes[id] : null;
}
