using Idefics3.Generation;

namespace Idefics3.StructuredOutput;

/// <summary>
/// The per-request state of grammar-constrained decoding: which tokens may come next given the bytes generated so far.
/// Check-first: <see cref="IsAllowed"/> runs one token's bytes through the matcher (microseconds); the full mask is
/// built only when the sampled token was rejected. Near the end of the output budget it steers towards closing the
/// document: a token is allowed only if the document can still be closed with the tokens left (counting one token per
/// byte, which every byte-level vocabulary can do). When even that is impossible the grammar alone decides, and the
/// output ends with finish reason Length and an incomplete document.
/// </summary>
internal sealed class JsonTokenConstraint : ITokenConstraint
{
    private readonly ByteMatcher _matcher;
    private readonly TokenIndex _index;
    private readonly TokenMask _mask;
    private MatcherState _state;
    private bool _ended;

    /// <summary>Initializes the state at the start of the document.</summary>
    /// <param name="matcher">The grammar's matcher (shared).</param>
    /// <param name="index">The vocabulary's index (shared).</param>
    public JsonTokenConstraint(ByteMatcher matcher, TokenIndex index)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        ArgumentNullException.ThrowIfNull(index);
        _matcher = matcher;
        _index = index;
        _mask = new TokenMask(matcher, index);
        _state = matcher.Start;
    }

    /// <summary>Initializes the state at <paramref name="start"/>, a state of <paramref name="matcher"/> that has already read some bytes (tool calls: the bytes of a token after the opening tag).</summary>
    /// <param name="matcher">The grammar's matcher (shared).</param>
    /// <param name="index">The vocabulary's index (shared).</param>
    /// <param name="start">A live state of <paramref name="matcher"/>.</param>
    public JsonTokenConstraint(ByteMatcher matcher, TokenIndex index, MatcherState start)
        : this(matcher, index)
    {
        if (start.IsDead)
        {
            throw new ArgumentException("The start state is dead.", nameof(start));
        }

        _state = start;
    }

    /// <inheritdoc />
    public bool IsComplete => _ended || ByteMatcher.IsComplete(_state);

    /// <inheritdoc />
    public bool MustEnd => _ended || ByteMatcher.MustEnd(_state);

    /// <summary>Gets the matcher state (for callers that embed this constraint in a larger one).</summary>
    public MatcherState State => _state;

    /// <summary>Gets the fewest bytes that would still complete the document.</summary>
    public int BytesToClose => _ended ? 0 : ByteMatcher.BytesToClose(_state);

    /// <inheritdoc />
    public bool IsAllowed(int tokenId, int remainingTokens)
    {
        if (_ended)
        {
            return false;
        }

        if (_index.IsEnd(tokenId))
        {
            return ByteMatcher.IsComplete(_state);
        }

        if (_index.BytesOf(tokenId) is not { } bytes)
        {
            return false;
        }

        MatcherState next = _matcher.Advance(_state, bytes);
        return !next.IsDead && (SteeringLimit(remainingTokens) is not int limit || ByteMatcher.BytesToClose(next) <= limit);
    }

    /// <inheritdoc />
    public void MaskLogits(Span<float> logits, int remainingTokens)
    {
        int allowed = 0;
        if (!_ended)
        {
            int? limit = SteeringLimit(remainingTokens);
            allowed = _mask.Compute(_state, limit);
            if (allowed == 0 && limit is not null)
            {
                allowed = _mask.Compute(_state, null); // the estimate was off: let the grammar alone decide
            }
        }
        else
        {
            Array.Clear(_mask.Bits);
        }

        ulong[] bits = _mask.Bits;
        bool endAllowed = !_ended && ByteMatcher.IsComplete(_state);
        int vocab = Math.Min(logits.Length, _index.VocabularySize);
        float[]? saved = null;
        if (endAllowed)
        {
            saved = new float[_index.EndTokenIds.Count];
            for (int k = 0; k < saved.Length; k++)
            {
                int id = _index.EndTokenIds[k];
                saved[k] = (uint)id < (uint)logits.Length ? logits[id] : float.NegativeInfinity;
            }
        }

        for (int word = 0; word * 64 < vocab; word++)
        {
            ulong w = bits[word];
            int start = word * 64;
            int count = Math.Min(64, vocab - start);
            if (w == ulong.MaxValue && count == 64)
            {
                continue;
            }

            if (w == 0)
            {
                logits.Slice(start, count).Fill(float.NegativeInfinity);
                continue;
            }

            for (int j = 0; j < count; j++)
            {
                if ((w & (1UL << j)) == 0)
                {
                    logits[start + j] = float.NegativeInfinity;
                }
            }
        }

        if (logits.Length > vocab)
        {
            logits[vocab..].Fill(float.NegativeInfinity);
        }

        if (saved is not null)
        {
            for (int k = 0; k < saved.Length; k++)
            {
                int id = _index.EndTokenIds[k];
                if ((uint)id < (uint)logits.Length)
                {
                    logits[id] = saved[k];
                }
            }
        }
    }

    /// <inheritdoc />
    public void Accept(int tokenId)
    {
        if (_ended)
        {
            throw new InvalidOperationException("The constrained output has already ended.");
        }

        if (_index.IsEnd(tokenId))
        {
            if (!ByteMatcher.IsComplete(_state))
            {
                throw new InvalidOperationException($"The end token {tokenId} is not allowed before the JSON document is complete.");
            }

            _ended = true;
            return;
        }

        byte[] bytes = _index.BytesOf(tokenId) ?? throw new InvalidOperationException($"Token {tokenId} is never allowed in constrained output (special, added or unknown).");
        MatcherState next = _matcher.Advance(_state, bytes);
        if (next.IsDead)
        {
            throw new InvalidOperationException($"Token {tokenId} does not continue the JSON document allowed by the schema.");
        }

        _state = next;
    }

    /// <summary>The most bytes allowed to close the document after the next token, or null when steering is off.</summary>
    private int? SteeringLimit(int remainingTokens)
    {
        int close = ByteMatcher.BytesToClose(_state);
        return close <= remainingTokens ? remainingTokens - 1 : null;
    }
}
