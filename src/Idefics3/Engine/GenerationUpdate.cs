using Idefics3.Generation;

namespace Idefics3;

/// <summary>
/// One step of a streamed generation: a text delta with the tokens that produced it, and, on the last update, the
/// finish reason, usage and timings.
/// </summary>
public sealed record GenerationUpdate
{
    /// <summary>Gets the new text (UTF-8 safe: never half a character; stop sequences never partly included).</summary>
    public string Text { get; init; } = string.Empty;

    /// <summary>Gets the ids of the tokens generated since the previous update.</summary>
    public IReadOnlyList<int> TokenIds { get; init; } = [];

    /// <summary>Gets the log-probabilities of <see cref="TokenIds"/>, when they were requested.</summary>
    public IReadOnlyList<TokenLogProb>? LogProbs { get; init; }

    /// <summary>Gets why generation ended; set on the last update only.</summary>
    public FinishReason? FinishReason { get; init; }

    /// <summary>Gets the stop sequence that ended generation, when one did.</summary>
    public string? StopSequence { get; init; }

    /// <summary>Gets the token usage; set on the last update only.</summary>
    public GenerationUsage? Usage { get; init; }

    /// <summary>Gets the timings; set on the last update only.</summary>
    public GenerationTimings? Timings { get; init; }

    /// <summary>Gets the prompt's token ids; set on the last update only.</summary>
    public IReadOnlyList<int>? InputIds { get; init; }

    /// <summary>Gets the seed the sampler used (drawn at random when the request set none); set on the last update only.</summary>
    public long? Seed { get; init; }

    /// <summary>
    /// Gets, on the last update of a constrained request (structured output, tool calls), whether the output is complete
    /// under its constraint: false when the token budget ran out first (finish reason <see cref="Generation.FinishReason.Length"/>).
    /// Null for unconstrained requests and on other updates.
    /// </summary>
    public bool? ConstraintSatisfied { get; init; }

    /// <summary>Gets a value indicating whether this is the last update.</summary>
    public bool IsFinal => FinishReason is not null;
}
