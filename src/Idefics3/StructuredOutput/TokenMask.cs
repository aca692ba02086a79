namespace Idefics3.StructuredOutput;

/// <summary>
/// Computes the set of tokens a matcher state allows: a depth-first walk of the token trie that advances the matcher
/// one byte per trie edge (keeping one state per depth, so nothing is undone) and skips a whole subtree as soon as a
/// byte is rejected; inside plain string content the plain tokens are added wholesale and only the other tokens are
/// walked. Reusable per request: it owns the scratch buffers.
/// </summary>
internal sealed class TokenMask
{
    private readonly ByteMatcher _matcher;
    private readonly TokenIndex _index;
    private readonly MatcherState[] _states;

    /// <summary>Initializes a mask builder for one matcher and vocabulary.</summary>
    public TokenMask(ByteMatcher matcher, TokenIndex index)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        ArgumentNullException.ThrowIfNull(index);
        _matcher = matcher;
        _index = index;
        _states = new MatcherState[index.Trie.MaxDepth + 1];
        Bits = new ulong[(index.VocabularySize + 63) / 64];
    }

    /// <summary>Gets the bit set filled by <see cref="Compute"/> (bit i: token i allowed; end ids not included).</summary>
    public ulong[] Bits { get; }

    /// <summary>
    /// Fills <see cref="Bits"/> with the tokens allowed from <paramref name="state"/>. When <paramref name="maxCloseBytes"/>
    /// is not null, a token is allowed only if the document can still be closed in that many bytes after it.
    /// </summary>
    /// <returns>The number of allowed tokens.</returns>
    public int Compute(in MatcherState state, int? maxCloseBytes)
    {
        Array.Clear(Bits);
        int count = 0;
        if (ByteMatcher.IsPlainStringContent(state, out int capacity))
        {
            if (maxCloseBytes is null || ByteMatcher.BytesToClose(state) <= maxCloseBytes)
            {
                _index.MarkPlain(Bits, capacity);
                count += _index.PlainCount; // an upper bound is enough: callers only test for zero
            }

            return count + Walk(_index.NonPlainTrie, state, maxCloseBytes);
        }

        return Walk(_index.Trie, state, maxCloseBytes);
    }

    private int Walk(TokenTrie trie, in MatcherState state, int? maxCloseBytes)
    {
        int count = 0;
        MatcherState[] states = _states;
        states[0] = state;
        int limit = maxCloseBytes ?? int.MaxValue;
        int n = trie.NodeCount;
        int i = 1;
        while (i < n)
        {
            int depth = trie.DepthAt(i);
            MatcherState next = _matcher.Advance(states[depth - 1], trie.ByteAt(i));
            if (next.IsDead)
            {
                i = trie.End(i);
                continue;
            }

            states[depth] = next;
            ReadOnlySpan<int> tokens = trie.TokensAt(i);
            if (tokens.Length > 0 && ByteMatcher.BytesToClose(next) <= limit)
            {
                foreach (int id in tokens)
                {
                    Bits[id >> 6] |= 1UL << (id & 63);
                }

                count += tokens.Length;
            }

            i++;
        }

        return count;
    }
}
