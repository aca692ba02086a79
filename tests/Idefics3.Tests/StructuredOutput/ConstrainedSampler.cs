using Idefics3.StructuredOutput;

namespace Idefics3.Tests.StructuredOutput;

/// <summary>
/// Samples under a constraint with seeded random logits, the way the generator does (check-first greedy: test the
/// argmax, mask and take the argmax again only when it is rejected). A random share of the steps favours tokens with
/// JSON punctuation so that documents explore structure instead of filling strings to their cap.
/// </summary>
internal static class ConstrainedSampler
{
    public static (byte[] Bytes, bool Complete, int Tokens) Sample(JsonTokenConstraint constraint, TokenIndex index, Random rng, int budget, int extraLogits = 0)
    {
        var output = new List<byte>();
        var logits = new float[index.VocabularySize + extraLogits];
        int tokens = 0;
        for (int step = 0; step < budget && !constraint.MustEnd; step++)
        {
            int remaining = budget - step;
            bool structural = rng.NextDouble() < 0.35;
            for (int i = 0; i < logits.Length; i++)
            {
                logits[i] = rng.NextSingle() + (structural && IsStructural(index.BytesOf(i)) ? 1f : 0f);
            }

            int pick = ArgMax(logits);
            if (!constraint.IsAllowed(pick, remaining))
            {
                constraint.MaskLogits(logits, remaining);
                pick = ArgMax(logits);
                Assert.True(float.IsFinite(logits[pick]), "the mask allowed no token");
            }

            constraint.Accept(pick);
            tokens++;
            if (index.IsEnd(pick))
            {
                break;
            }

            output.AddRange(index.BytesOf(pick)!);
        }

        return ([.. output], constraint.IsComplete, tokens);
    }

    private static bool IsStructural(byte[]? bytes)
    {
        if (bytes is null)
        {
            return false;
        }

        foreach (byte b in bytes)
        {
            if (b is (byte)'"' or (byte)',' or (byte)'}' or (byte)']' or (byte)':' or (byte)'{' or (byte)'[')
            {
                return true;
            }
        }

        return false;
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
