using Idefics3.Diagnostics;
using Idefics3.Tokenization;

namespace Idefics3.Cli.Bench;

/// <summary>
/// The cost of the tool-call constraint per generated token on a real vocabulary, measured the way the sampler uses it
/// (check the sampled token; build the full mask and accept): random logits stand in for the model, so the numbers are
/// the constraint's own time, without a forward pass (<see cref="ToolCallConstraintProbe"/>). Prints index build,
/// grammar compile and per-token p50/p99/max.
/// </summary>
internal static class ToolCallBench
{
    /// <summary>Runs the measurement on the tokenizer in <paramref name="modelFolder"/>.</summary>
    public static void Run(string modelFolder, TextWriter output, int walks = 20, int budget = 200)
    {
        ToolCallConstraintCost cost = ToolCallConstraintProbe.Measure(HuggingFaceTokenizer.FromDirectory(modelFolder), walks, budget);
        output.WriteLine($"Tool-call constraint on {Path.GetFileName(Path.TrimEndingDirectorySeparator(modelFolder))} ({cost.VocabularySize} tokens)");
        output.WriteLine($"  token index build: {cost.IndexBuildMilliseconds:F1} ms (once per model); call grammar compile (2 tools): {cost.GrammarCompileMilliseconds:F2} ms (cached per tool set)");
        foreach (ToolChoiceCost choice in cost.Choices)
        {
            output.WriteLine(
                $"  {choice.Choice,-10} per token, check + accept: p50 {Percentile(choice.CheckMilliseconds, 50):F3} ms, p99 {Percentile(choice.CheckMilliseconds, 99):F3} ms | " +
                $"with the full mask when rejected (random logits: almost always): p50 {Percentile(choice.MaskMilliseconds, 50):F3} ms, p99 {Percentile(choice.MaskMilliseconds, 99):F3} ms, max {choice.MaskMilliseconds.Max():F3} ms ({choice.MaskMilliseconds.Count} tokens)");
        }
    }

    private static double Percentile(IReadOnlyList<double> values, int percentile)
    {
        double[] sorted = [.. values.Order()];
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];
    }
}
