using Idefics3.Generation;

namespace Idefics3;

/// <summary>The complete result of one generation.</summary>
public sealed record GenerationResult
{
    /// <summary>Gets the generated text (without the stop sequence or end-of-turn token).</summary>
    public required string Text { get; init; }

    /// <summary>Gets the prompt's token ids (images expanded).</summary>
    public required IReadOnlyList<int> InputIds { get; init; }

    /// <summary>Gets the generated token ids, including a final end-of-sequence token when one ended generation.</summary>
    public required IReadOnlyList<int> OutputIds { get; init; }

    /// <summary>Gets why generation ended.</summary>
    public required FinishReason FinishReason { get; init; }

    /// <summary>Gets the stop sequence that ended generation, when one did.</summary>
    public string? StopSequence { get; init; }

    /// <summary>Gets the token usage.</summary>
    public required GenerationUsage Usage { get; init; }

    /// <summary>Gets the timings.</summary>
    public required GenerationTimings Timings { get; init; }

    /// <summary>Gets the log-probabilities of the generated tokens, when requested.</summary>
    public IReadOnlyList<TokenLogProb>? LogProbs { get; init; }

    /// <summary>Gets the seed the sampler used.</summary>
    public long Seed { get; init; }

    /// <summary>
    /// Gets whether a constrained output (structured output, tool calls) is complete under its constraint: false when the
    /// token budget ran out first (finish reason <see cref="Generation.FinishReason.Length"/>); null for unconstrained requests.
    /// </summary>
    public bool? ConstraintSatisfied { get; init; }
}
