using Idefics3.Generation;

namespace Idefics3.ToolCalling;

/// <summary>
/// One of two constraints, decided by the output: both run side by side while a token fits both, and the first token
/// only one of them allows drops the other. Used for "tool calls or the JSON answer" when a request carries tools and a
/// response format. One instance per request; not thread-safe.
/// </summary>
internal sealed class EitherConstraint : ITokenConstraint
{
    private ITokenConstraint? _first;
    private ITokenConstraint? _second;
    private float[] _scratch = [];

    /// <summary>Initializes a new instance of the <see cref="EitherConstraint"/> class.</summary>
    public EitherConstraint(ITokenConstraint first, ITokenConstraint second)
    {
        _first = first;
        _second = second;
    }

    /// <summary>Gets the constraint still alive when only one is, or null while both are.</summary>
    public ITokenConstraint? Chosen => _first is null ? _second : _second is null ? _first : null;

    /// <inheritdoc />
    public bool IsComplete => (_first?.IsComplete ?? false) || (_second?.IsComplete ?? false);

    /// <inheritdoc />
    public bool MustEnd => (_first?.MustEnd ?? true) && (_second?.MustEnd ?? true);

    /// <inheritdoc />
    public bool IsAllowed(int tokenId, int remainingTokens) =>
        (_first?.IsAllowed(tokenId, remainingTokens) ?? false) || (_second?.IsAllowed(tokenId, remainingTokens) ?? false);

    /// <inheritdoc />
    public void MaskLogits(Span<float> logits, int remainingTokens)
    {
        if (_first is null || _second is null)
        {
            (_first ?? _second)!.MaskLogits(logits, remainingTokens);
            return;
        }

        // Masked by both = masked: mask a copy with the first, the logits with the second, and restore what the first allows.
        if (_scratch.Length != logits.Length)
        {
            _scratch = new float[logits.Length];
        }

        Span<float> copy = _scratch;
        logits.CopyTo(copy);
        _first.MaskLogits(copy, remainingTokens);
        _second.MaskLogits(logits, remainingTokens);
        for (int i = 0; i < logits.Length; i++)
        {
            if (float.IsNegativeInfinity(logits[i]) && !float.IsNegativeInfinity(copy[i]))
            {
                logits[i] = copy[i];
            }
        }
    }

    /// <inheritdoc />
    public void Accept(int tokenId)
    {
        bool first = _first?.IsAllowed(tokenId, int.MaxValue) ?? false;
        bool second = _second?.IsAllowed(tokenId, int.MaxValue) ?? false;
        if (!first && !second)
        {
            throw new InvalidOperationException($"Token {tokenId} is allowed by neither alternative.");
        }

        if (first)
        {
            _first!.Accept(tokenId);
        }
        else
        {
            _first = null;
        }

        if (second)
        {
            _second!.Accept(tokenId);
        }
        else
        {
            _second = null;
        }
    }
}
