using System.Diagnostics;
using Idefics3.StructuredOutput;
using Idefics3.Tokenization;
using Idefics3.ToolCalling;
using Microsoft.Extensions.AI;

namespace Idefics3.Diagnostics;

/// <summary>
/// Measures the tool-call output constraint without a model: two tools (<c>get_weather</c>, <c>place_order</c>), random
/// logits, the highest allowed pick each step, for <c>RequireAny</c> and <c>Auto</c>.
/// </summary>
public static class ToolCallConstraintProbe
{
    /// <summary>Runs <paramref name="walks"/> random walks of at most <paramref name="budget"/> tokens per tool choice.</summary>
    /// <param name="tokenizer">The vocabulary.</param>
    /// <param name="walks">Walks per tool choice (at least 1).</param>
    /// <param name="budget">The token budget of one walk (at least 1).</param>
    /// <returns>The costs.</returns>
    public static ToolCallConstraintCost Measure(HuggingFaceTokenizer tokenizer, int walks = 20, int budget = 200)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(walks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        TokenIndex index = null!;
        double indexMs = ProbeTiming.Milliseconds(() => index = TokenIndex.Build(tokenizer, [])); // as the engine's StructuredOutputResources builds it, once per model

        AIFunction weather = AIFunctionFactory.Create((string city, int days, bool metric) => "sunny", "get_weather", "Gets the weather.");
        AIFunction order = AIFunctionFactory.Create((string[] items, DayOfWeek day, double? discount) => "ok", "place_order");
        ToolSet tools = ToolSet.FromOptions(new ChatOptions { Tools = [weather, order], ToolMode = ChatToolMode.RequireAny })!;
        JsonGrammar grammar = null!;
        double compileMs = ProbeTiming.Milliseconds(() => grammar = JsonSchemaCompiler.Compile(ToolCallSchema.Build(tools.Callable)));

        var choices = new List<ToolChoiceCost>();
        foreach (ToolChoice choice in new[] { ToolChoice.RequireAny, ToolChoice.Auto })
        {
            var checks = new List<double>();
            var masks = new List<double>();
            var random = new Random(1);
            var logits = new float[index.VocabularySize];
            for (int walk = 0; walk < walks; walk++)
            {
                Walk(new ToolCallConstraint(index, grammar, choice, allowMultiple: true), logits, random, budget, checks, masks);
            }

            choices.Add(new ToolChoiceCost(choice.ToString(), checks, masks));
        }

        return new ToolCallConstraintCost(index.VocabularySize, indexMs, compileMs, choices);
    }

    private static void Walk(ToolCallConstraint constraint, float[] logits, Random random, int budget, List<double> checks, List<double> masks)
    {
        for (int step = 0; step < budget && !constraint.MustEnd; step++)
        {
            for (int i = 0; i < logits.Length; i++)
            {
                logits[i] = random.NextSingle();
            }

            int remaining = budget - step;
            int token = ProbeTiming.ArgMax(logits);
            long start = Stopwatch.GetTimestamp();
            bool allowed = constraint.IsAllowed(token, remaining);
            double checkMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            double maskMs = 0;
            if (!allowed)
            {
                start = Stopwatch.GetTimestamp();
                constraint.MaskLogits(logits, remaining);
                maskMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                token = ProbeTiming.ArgMax(logits);
                if (float.IsNegativeInfinity(logits[token]))
                {
                    return; // only the end is left
                }
            }

            start = Stopwatch.GetTimestamp();
            constraint.Accept(token);
            double acceptMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            checks.Add(checkMs + acceptMs);
            masks.Add(checkMs + maskMs + acceptMs);
        }
    }
}
