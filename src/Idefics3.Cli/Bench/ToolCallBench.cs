using System.Diagnostics;
using Idefics3.StructuredOutput;
using Idefics3.Tokenization;
using Idefics3.ToolCalling;
using Microsoft.Extensions.AI;

namespace Idefics3.Cli.Bench;

/// <summary>
/// The cost of the tool-call constraint per generated token on a real vocabulary, measured the way the sampler uses it
/// (check the sampled token; build the full mask and accept): random logits stand in for the model, so the numbers are
/// the constraint's own time, without a forward pass. Prints index build, grammar compile and per-token p50/p99/max.
/// </summary>
internal static class ToolCallBench
{
    /// <summary>Runs the measurement on the tokenizer in <paramref name="modelFolder"/>.</summary>
    public static void Run(string modelFolder, TextWriter output, int walks = 20, int budget = 200)
    {
        HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.FromDirectory(modelFolder);
        var watch = Stopwatch.StartNew();
        TokenIndex index = TokenIndex.Build(tokenizer, []); // as the engine's StructuredOutputResources builds it, once per model
        double indexMs = watch.Elapsed.TotalMilliseconds;

        AIFunction weather = AIFunctionFactory.Create((string city, int days, bool metric) => "sunny", "get_weather", "Gets the weather.");
        AIFunction order = AIFunctionFactory.Create((string[] items, DayOfWeek day, double? discount) => "ok", "place_order");
        ToolSet tools = ToolSet.FromOptions(new ChatOptions { Tools = [weather, order], ToolMode = ChatToolMode.RequireAny })!;
        watch.Restart();
        JsonGrammar grammar = JsonSchemaCompiler.Compile(ToolCallSchema.Build(tools.Callable));
        double compileMs = watch.Elapsed.TotalMilliseconds;

        output.WriteLine($"Tool-call constraint on {Path.GetFileName(Path.TrimEndingDirectorySeparator(modelFolder))} ({index.VocabularySize} tokens)");
        output.WriteLine($"  token index build: {indexMs:F1} ms (once per model); call grammar compile (2 tools): {compileMs:F2} ms (cached per tool set)");
        foreach (ToolChoice choice in new[] { ToolChoice.RequireAny, ToolChoice.Auto })
        {
            var checks = new List<double>();
            var masks = new List<double>();
            var random = new Random(1);
            var logits = new float[index.VocabularySize];
            for (int walk = 0; walk < walks; walk++)
            {
                var constraint = new ToolCallConstraint(index, grammar, choice, allowMultiple: true);
                for (int step = 0; step < budget && !constraint.MustEnd; step++)
                {
                    for (int i = 0; i < logits.Length; i++)
                    {
                        logits[i] = random.NextSingle();
                    }

                    int remaining = budget - step;
                    int token = ArgMax(logits);
                    long start = Stopwatch.GetTimestamp();
                    bool allowed = constraint.IsAllowed(token, remaining);
                    double checkMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    double maskMs = 0;
                    if (!allowed)
                    {
                        start = Stopwatch.GetTimestamp();
                        constraint.MaskLogits(logits, remaining);
                        maskMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        token = ArgMax(logits);
                        if (float.IsNegativeInfinity(logits[token]))
                        {
                            break; // only the end is left
                        }
                    }

                    start = Stopwatch.GetTimestamp();
                    constraint.Accept(token);
                    double acceptMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    checks.Add(checkMs + acceptMs);
                    masks.Add(checkMs + maskMs + acceptMs);
                }
            }

            output.WriteLine(
                $"  {choice,-10} per token, check + accept: p50 {Percentile(checks, 50):F3} ms, p99 {Percentile(checks, 99):F3} ms | " +
                $"with the full mask when rejected (random logits: almost always): p50 {Percentile(masks, 50):F3} ms, p99 {Percentile(masks, 99):F3} ms, max {masks.Max():F3} ms ({masks.Count} tokens)");
        }
    }

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
