namespace Idefics3.Generation;

/// <summary>The token a <see cref="LogitsSampler"/> chose at one step.</summary>
/// <param name="TokenId">The chosen token id.</param>
/// <param name="LogProb">
/// Its log-probability and the top alternatives from the raw logits when <see cref="GenerationOptions.LogProbs"/> is
/// set; <see langword="null"/> otherwise.
/// </param>
internal sealed record SampledToken(int TokenId, TokenLogProb? LogProb);
