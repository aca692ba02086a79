namespace Idefics3.Generation;

/// <summary>
/// The log-probability of one token, with OpenAI <c>logprobs</c> semantics: the natural-log probability under the
/// model's RAW distribution, <c>log_softmax</c> of the logits the model produced for that position, before
/// repetition/frequency/presence penalties, temperature, top-k, top-p and min-p. A sampled token can therefore be
/// one that the raw distribution rates low.
/// </summary>
/// <param name="TokenId">The token id.</param>
/// <param name="LogProb">The natural-log probability, at most 0 (may be negative infinity for a masked token).</param>
public sealed record TokenLogProb(int TokenId, float LogProb)
{
    /// <summary>
    /// Gets the most likely alternatives at the same position, most likely first (they may include
    /// <see cref="TokenId"/> itself), <see cref="GenerationOptions.TopLogProbs"/> of them; empty for an alternative.
    /// </summary>
    public IReadOnlyList<TokenLogProb> TopLogProbs { get; init; } = [];

    /// <summary>Gets the decoded text of the token when the engine has set it; <see langword="null"/> otherwise.</summary>
    public string? Text { get; init; }
}
