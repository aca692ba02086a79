namespace Idefics3.Diagnostics;

/// <summary>What the JSON-schema output constraint costs on one vocabulary (see <see cref="JsonConstraintProbe"/>).</summary>
/// <param name="VocabularySize">The number of token ids in the vocabulary's token index.</param>
/// <param name="IndexBuildMilliseconds">Each build of the token index (done once per model by the engine).</param>
/// <param name="TokenMilliseconds">Per generated token: the check of the first pick, the full mask when it was rejected, and the accept.</param>
/// <param name="TokenCpuMilliseconds">The same per token in thread CPU time; <see langword="null"/> where thread CPU time cannot be read.</param>
/// <param name="FullMaskMilliseconds">Each full-vocabulary mask (needed only when the first pick was rejected).</param>
public sealed record JsonConstraintCost(
    int VocabularySize,
    IReadOnlyList<double> IndexBuildMilliseconds,
    IReadOnlyList<double> TokenMilliseconds,
    IReadOnlyList<double>? TokenCpuMilliseconds,
    IReadOnlyList<double> FullMaskMilliseconds);
