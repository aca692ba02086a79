namespace Idefics3.Diagnostics;

/// <summary>What the tool-call output constraint costs on one vocabulary (see <see cref="ToolCallConstraintProbe"/>).</summary>
/// <param name="VocabularySize">The number of token ids in the vocabulary's token index.</param>
/// <param name="IndexBuildMilliseconds">The build of the token index (done once per model by the engine).</param>
/// <param name="GrammarCompileMilliseconds">The compilation of the call grammar for the probe's two tools (cached per tool set by the engine).</param>
/// <param name="Choices">The per-token costs for each tool choice measured.</param>
public sealed record ToolCallConstraintCost(
    int VocabularySize,
    double IndexBuildMilliseconds,
    double GrammarCompileMilliseconds,
    IReadOnlyList<ToolChoiceCost> Choices);
