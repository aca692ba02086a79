using System.Buffers;
using System.Diagnostics;
using Idefics3.StructuredOutput;
using Idefics3.Tokenization;

namespace Idefics3.Diagnostics;

/// <summary>
/// Measures the JSON-schema output constraint without a model: schema compilation, the token index of a vocabulary,
/// and the per-token cost of constrained sampling over random logits (structural tokens favoured at random steps, so
/// documents look like real output).
/// </summary>
public static class JsonConstraintProbe
{
    private const int MaxDocumentTokens = 400;

    private static readonly SearchValues<byte> s_structural = SearchValues.Create("\",}]:{["u8);

    /// <summary>Compiles a JSON schema into its byte grammar <paramref name="repeats"/> times.</summary>
    /// <param name="schema">The JSON schema text.</param>
    /// <param name="repeats">How many compilations (at least 1).</param>
    /// <returns>The wall time of each compilation in milliseconds.</returns>
    /// <exception cref="StructuredOutputSchemaException">The schema is not supported.</exception>
    public static double[] MeasureCompile(string schema, int repeats)
    {
        ArgumentException.ThrowIfNullOrEmpty(schema);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        return [.. Enumerable.Range(0, repeats).Select(_ => ProbeTiming.Milliseconds(() => JsonSchemaCompiler.Compile(schema)))];
    }

    /// <summary>
    /// Builds the vocabulary's token index <paramref name="repeats"/> times, then generates <c>4 × repeats</c> documents
    /// of at most 400 tokens under the schema (one more, untimed, warms up), picking the highest random logit.
    /// </summary>
    /// <param name="tokenizer">The vocabulary.</param>
    /// <param name="endTokenIds">The ids that end generation.</param>
    /// <param name="schema">The JSON schema text.</param>
    /// <param name="repeats">How many index builds (at least 1); a fixed seed makes runs comparable.</param>
    /// <returns>The costs.</returns>
    /// <exception cref="StructuredOutputSchemaException">The schema is not supported.</exception>
    public static JsonConstraintCost Measure(HuggingFaceTokenizer tokenizer, IReadOnlyCollection<int> endTokenIds, string schema, int repeats)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(endTokenIds);
        ArgumentException.ThrowIfNullOrEmpty(schema);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        TokenIndex index = null!;
        double[] build = [.. Enumerable.Range(0, repeats).Select(_ => ProbeTiming.Milliseconds(() => index = TokenIndex.Build(tokenizer, endTokenIds)))];

        var matcher = new ByteMatcher(JsonSchemaCompiler.Compile(schema));
        var perToken = new List<double>();
        var perTokenCpu = new List<double>();
        var masks = new List<double>();
        var rng = new Random(1234);
        var logits = new float[index.VocabularySize];
        int documents = 4 * repeats;
        for (int doc = -1; doc < documents; doc++) // document -1 warms up (JIT) and is not counted
        {
            var constraint = new JsonTokenConstraint(matcher, index);
            for (int step = 0; step < MaxDocumentTokens && !constraint.MustEnd; step++)
            {
                int remaining = MaxDocumentTokens - step;
                bool structural = rng.NextDouble() < 0.35;
                for (int i = 0; i < logits.Length; i++)
                {
                    logits[i] = rng.NextSingle() + (structural && IsStructural(index.BytesOf(i)) ? 1f : 0f);
                }

                double cpuStart = ThreadCpu.Milliseconds();
                long start = Stopwatch.GetTimestamp();
                int pick = ProbeTiming.ArgMax(logits);
                if (!constraint.IsAllowed(pick, remaining))
                {
                    long maskStart = Stopwatch.GetTimestamp();
                    constraint.MaskLogits(logits, remaining);
                    if (doc >= 0)
                    {
                        masks.Add(Stopwatch.GetElapsedTime(maskStart).TotalMilliseconds);
                    }

                    pick = ProbeTiming.ArgMax(logits);
                }

                constraint.Accept(pick);
                if (doc >= 0)
                {
                    perToken.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    perTokenCpu.Add(ThreadCpu.Milliseconds() - cpuStart);
                }

                if (index.IsEnd(pick))
                {
                    break;
                }
            }
        }

        return new JsonConstraintCost(index.VocabularySize, build, perToken, ThreadCpu.IsAvailable ? perTokenCpu : null, masks);
    }

    private static bool IsStructural(byte[]? bytes) => bytes is not null && bytes.AsSpan().IndexOfAny(s_structural) >= 0;
}
