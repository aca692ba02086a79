using Idefics3.Generation;
using Idefics3.Tokenization;
using Idefics3.ToolCalling;

namespace Idefics3.Tests.ToolCalling;

/// <summary>Samples under a constraint with random logits, as the generator does (check first, mask when rejected).</summary>
internal static class ConstraintWalk
{
    public static HuggingFaceTokenizer TinyTokenizer { get; } = HuggingFaceTokenizer.FromDirectory(TestFixtures.TinyModelDirectory);

    public static TokenByteTable TinyTable { get; } = TokenByteTable.FromTokenizer(
        TinyTokenizer, new HashSet<int> { TinyTokenizer.TokenToId("<end_of_utterance>")!.Value, TinyTokenizer.TokenToId("<|end_of_text|>")!.Value });

    /// <summary>Runs one walk; returns the output ids (the end id included when one was chosen) and whether it completed.</summary>
    public static (List<int> Ids, bool Complete) Run(ITokenConstraint constraint, int seed, int budget, int vocabulary, Func<int, float>? bias = null)
    {
        var random = new Random(seed);
        var output = new List<int>();
        var logits = new float[vocabulary];
        for (int step = 0; step < budget; step++)
        {
            for (int i = 0; i < logits.Length; i++)
            {
                logits[i] = (float)(random.NextDouble() * 4) + (bias?.Invoke(i) ?? 0);
            }

            int remaining = budget - step;
            int token = ArgMax(logits);
            if (!constraint.IsAllowed(token, remaining))
            {
                constraint.MaskLogits(logits, remaining);
                token = ArgMax(logits);
                Assert.False(float.IsNegativeInfinity(logits[token]), $"the mask allowed nothing after {output.Count} tokens");
                Assert.True(constraint.IsAllowed(token, remaining), $"the mask allowed token {token}, which IsAllowed rejects");
            }

            constraint.Accept(token);
            output.Add(token);
            if (TinyTable.EndIds.Contains(token))
            {
                return (output, true);
            }

            if (constraint.MustEnd)
            {
                return (output, true);
            }
        }

        return (output, constraint.IsComplete);
    }

    public static string Text(IEnumerable<int> ids) => TinyTokenizer.Decode(ids.Where(id => !TinyTable.EndIds.Contains(id)));

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

/// <summary>A stand-in for the JSON constraint in these tests: exactly one fixed text, then the end.</summary>
internal sealed class FixedTextConstraint(TokenByteTable table, string text) : ITokenConstraint
{
    private readonly LiteralSet _literal = new(text);

    public bool IsComplete => _literal.IsComplete;

    public bool MustEnd => _literal.IsComplete;

    public bool IsAllowed(int tokenId, int remainingTokens) =>
        table.EndIds.Contains(tokenId) ? IsComplete : table.Bytes(tokenId) is { } bytes && _literal.Fits(bytes);

    public void MaskLogits(Span<float> logits, int remainingTokens)
    {
        for (int i = 0; i < logits.Length; i++)
        {
            if (!IsAllowed(i, remainingTokens))
            {
                logits[i] = float.NegativeInfinity;
            }
        }
    }

    public void Accept(int tokenId) => _literal.Add(table.Bytes(tokenId) ?? throw new InvalidOperationException("not text"));
}
