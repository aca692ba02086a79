namespace Idefics3.Generation;

/// <summary>
/// A per-request restriction on which token ids may be generated next (structured output, tool calls). The generator
/// applies penalties, samples, checks that one token with <see cref="IsAllowed"/>, and only when it is rejected asks
/// for the full mask with <see cref="MaskLogits"/> and samples again. End-of-sequence ids are governed by the constraint
/// too: allowed only when <see cref="IsComplete"/>.
/// </summary>
internal interface ITokenConstraint
{
    /// <summary>True when <paramref name="tokenId"/> may be generated next, with <paramref name="remainingTokens"/> tokens of output budget left (this one included).</summary>
    bool IsAllowed(int tokenId, int remainingTokens);

    /// <summary>Sets to negative infinity the logit of every id that <see cref="IsAllowed"/> would reject (ids past the tokenizer's vocabulary included).</summary>
    void MaskLogits(Span<float> logits, int remainingTokens);

    /// <summary>Advances the state by the generated token; throws <see cref="InvalidOperationException"/> if it was not allowed.</summary>
    void Accept(int tokenId);

    /// <summary>True when the output so far is a complete document: an end-of-sequence id may be generated.</summary>
    bool IsComplete { get; }

    /// <summary>True when nothing but the end can follow: the generator stops (finish reason Stop) without another forward pass.</summary>
    bool MustEnd { get; }
}
