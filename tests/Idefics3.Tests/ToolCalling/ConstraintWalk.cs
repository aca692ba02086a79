using Idefics3.Generation;
using Idefics3.StructuredOutput;

namespace Idefics3.Tests.ToolCalling;

/// <summary>
/// Samples under a constraint with seeded random logits, as the generator does: end ids allowed exactly when the
/// constraint is complete, the argmax checked first and the mask built only when it is rejected.
/// </summary>
internal static class ConstraintWalk
{
    /// <summary>Runs one walk; returns the output bytes, whether it completed and how many calls the output holds.</summary>
    public static (byte[] Bytes, bool Complete) Run(ITokenConstraint constraint, TokenIndex index, IReadOnlyList<int> endIds, Random random, int budget, Func<int, float>? bias = null)
    {
        var output = new List<byte>();
        var logits = new float[index.VocabularySize + 3];
        for (int step = 0; step < budget; step++)
        {
            for (int i = 0; i < logits.Length; i++)
            {
                logits[i] = random.NextSingle() * 4 + (bias?.Invoke(i) ?? 0);
            }

            int remaining = budget - step;
            int token = ArgMax(logits);
            if (!Allows(constraint, endIds, token, remaining))
            {
                var saved = endIds.Select(id => logits[id]).ToArray();
                constraint.MaskLogits(logits, remaining);
                for (int k = 0; k < endIds.Count; k++)
                {
                    logits[endIds[k]] = constraint.IsComplete ? saved[k] : float.NegativeInfinity;
                }

                token = ArgMax(logits);
                Assert.False(float.IsNegativeInfinity(logits[token]), $"the mask allowed nothing after {output.Count} bytes");
                Assert.True(Allows(constraint, endIds, token, remaining), $"the mask allowed token {token}, which IsAllowed rejects");
            }

            if (endIds.Contains(token))
            {
                return ([.. output], true);
            }

            constraint.Accept(token);
            output.AddRange(index.BytesOf(token) ?? []);
            if (constraint.MustEnd)
            {
                return ([.. output], true);
            }
        }

        return ([.. output], constraint.IsComplete);
    }

    private static bool Allows(ITokenConstraint constraint, IReadOnlyList<int> endIds, int token, int remaining) =>
        endIds.Contains(token) ? constraint.IsComplete : constraint.IsAllowed(token, remaining);

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
