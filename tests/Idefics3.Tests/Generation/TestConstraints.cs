using Idefics3.Generation;

namespace Idefics3.Tests.Generation;

/// <summary>Allows a fixed set of ids; complete once <c>completeAfter</c> tokens were accepted; never must end.</summary>
internal sealed class AllowListConstraint(IReadOnlySet<int> allowed, int completeAfter) : ITokenConstraint
{
    public int AllowedChecks { get; private set; }

    public int MaskCalls { get; private set; }

    public List<int> Accepted { get; } = [];

    public bool IsComplete => Accepted.Count >= completeAfter;

    public bool MustEnd => false;

    public bool IsAllowed(int tokenId, int remainingTokens)
    {
        AllowedChecks++;
        return allowed.Contains(tokenId);
    }

    public void MaskLogits(Span<float> logits, int remainingTokens)
    {
        MaskCalls++;
        for (int i = 0; i < logits.Length; i++)
        {
            if (!allowed.Contains(i))
            {
                logits[i] = float.NegativeInfinity;
            }
        }
    }

    public void Accept(int tokenId)
    {
        if (!allowed.Contains(tokenId))
        {
            throw new InvalidOperationException($"token {tokenId} is not allowed");
        }

        Accepted.Add(tokenId);
    }
}

/// <summary>Allows exactly one sequence; complete at its end, where it must end when <c>mustEnd</c> is set.</summary>
internal sealed class SequenceConstraint(int[] sequence, bool mustEnd) : ITokenConstraint
{
    public int Position { get; private set; }

    public bool IsComplete => Position == sequence.Length;

    public bool MustEnd => mustEnd && IsComplete;

    public bool IsAllowed(int tokenId, int remainingTokens) => Position < sequence.Length && sequence[Position] == tokenId;

    public void MaskLogits(Span<float> logits, int remainingTokens)
    {
        for (int i = 0; i < logits.Length; i++)
        {
            if (!IsAllowed(i, remainingTokens))
            {
                logits[i] = float.NegativeInfinity;
            }
        }
    }

    public void Accept(int tokenId)
    {
        if (!IsAllowed(tokenId, 1))
        {
            throw new InvalidOperationException($"token {tokenId} is not next in the sequence");
        }

        Position++;
    }
}
