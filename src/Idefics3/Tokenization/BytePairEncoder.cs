namespace Idefics3.Tokenization;

/// <summary>
/// The byte-level BPE model: a pre-token's UTF-8 bytes mapped to the byte-level alphabet, then merged by rank (lowest
/// first) as Hugging Face's <c>BPE</c> model does; with <c>ignore_merges</c> a pre-token that is itself in the vocabulary
/// is one id. Results are cached per pre-token (<see cref="WordCache"/>). Thread-safe.
/// </summary>
internal sealed class BytePairEncoder
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<long, (int Rank, int Merged)> _merges;
    private readonly bool _ignoreMerges;
    private readonly int[] _charIds;
    private readonly WordCache _cache = new();

    /// <summary>Initializes a new instance of the <see cref="BytePairEncoder"/> class.</summary>
    /// <param name="vocab">Token string to id.</param>
    /// <param name="merges">The merges in rank order; merges whose parts or result are not in the vocabulary are ignored.</param>
    /// <param name="ignoreMerges">Whether whole-vocabulary pre-tokens skip BPE.</param>
    public BytePairEncoder(Dictionary<string, int> vocab, List<(string Left, string Right)> merges, bool ignoreMerges)
    {
        _vocab = vocab;
        _ignoreMerges = ignoreMerges;
        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (vocab.TryGetValue(left, out int a) && vocab.TryGetValue(right, out int b) && vocab.TryGetValue(left + right, out int m))
            {
                _merges.TryAdd(PairKey(a, b), (rank, m));
            }
        }

        _charIds = new int[512];
        Array.Fill(_charIds, -1);
        for (int b = 0; b < 256; b++)
        {
            char c = ByteLevelAlphabet.ToChar((byte)b);
            if (vocab.TryGetValue(c.ToString(), out int id))
            {
                _charIds[c] = id;
            }
        }
    }

    /// <summary>Encodes one pre-token.</summary>
    /// <param name="word">The pre-token (raw text).</param>
    /// <returns>Its ids (shared with the cache: do not modify).</returns>
    public int[] Encode(string word)
    {
        if (_cache.TryGet(word, out int[]? cached))
        {
            return cached!;
        }

        string mapped = ByteLevelAlphabet.Encode(word);
        int[] result = _ignoreMerges && _vocab.TryGetValue(mapped, out int whole) ? [whole] : Merge(mapped);
        _cache.Add(word, result);
        return result;
    }

    private static long PairKey(int a, int b) => ((long)a << 32) | (uint)b;

    private int[] Merge(string mapped)
    {
        var symbols = new List<int>(mapped.Length);
        foreach (char c in mapped)
        {
            int id = c < _charIds.Length ? _charIds[c] : -1;
            if (id >= 0)
            {
                symbols.Add(id);
            }
        }

        while (symbols.Count > 1)
        {
            int bestRank = int.MaxValue;
            int bestIndex = -1;
            int bestMerged = 0;
            for (int i = 0; i < symbols.Count - 1; i++)
            {
                if (_merges.TryGetValue(PairKey(symbols[i], symbols[i + 1]), out var m) && m.Rank < bestRank)
                {
                    bestRank = m.Rank;
                    bestIndex = i;
                    bestMerged = m.Merged;
                }
            }

            if (bestIndex < 0)
            {
                break;
            }

            symbols[bestIndex] = bestMerged;
            symbols.RemoveAt(bestIndex + 1);
        }

        return [.. symbols];
    }
}
