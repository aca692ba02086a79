using System.Runtime.InteropServices;
using Idefics3.Modeling.FastDecode;
using Idefics3.Runtime;

namespace Idefics3.Tests.Modeling.FastDecode;

/// <summary>
/// The one-query attention job (kernel, split ranges, merge) against a straightforward double-precision
/// softmax(q·Kᵀ/√d)·V per query head, on a cache whose slots past the attended length hold NaN (so reading one of them
/// fails the test): lengths that end inside a 4-row group and inside a 64-position block, head sizes that take the
/// vector paths and ones that fall back to the per-row loops, bfloat16 and float32 caches, 1 and 2 threads.
/// </summary>
public sealed unsafe class AttentionKernelTests
{
    [Theory]
    [InlineData(1, 1, 64, true, 1)]
    [InlineData(3, 2, 64, true, 2)]
    [InlineData(5, 3, 64, false, 2)]
    [InlineData(63, 3, 64, true, 1)]
    [InlineData(65, 1, 128, true, 2)]
    [InlineData(130, 4, 128, false, 2)]
    [InlineData(257, 3, 64, true, 2)]
    [InlineData(300, 2, 32, false, 1)]
    [InlineData(1027, 4, 128, true, 2)]
    [InlineData(71, 2, 24, true, 2)]    // head size not a multiple of 16: per-row loops
    [InlineData(70, 3, 40, false, 1)]   // float32, not a multiple of 16
    [InlineData(9, 1, 8, false, 2)]
    public void Matches_a_plain_softmax_attention(int length, int groups, int headDim, bool bf16, int threads)
    {
        const int KvHeads = 2;
        int capacity = length + 9;
        int heads = KvHeads * groups;
        var random = new Random((length * 31) + headDim);
        float[] q = Fill(random, heads * headDim, 1f);
        float[] keys = Fill(random, KvHeads * capacity * headDim, 1f);
        float[] values = Fill(random, KvHeads * capacity * headDim, 1f);
        if (bf16)
        {
            Round(keys);
            Round(values);
        }

        for (int kv = 0; kv < KvHeads; kv++)
        {
            // Slots past the attended length must never be read.
            keys.AsSpan(((kv * capacity) + length) * headDim, (capacity - length) * headDim).Fill(float.NaN);
            values.AsSpan(((kv * capacity) + length) * headDim, (capacity - length) * headDim).Fill(float.NaN);
        }

        double[] expected = Reference(q, keys, values, KvHeads, groups, headDim, capacity, length);
        float[] actual = new float[heads * headDim];
        const int MaxSplits = 16;
        float[] partials = new float[AttentionJob.PartialFloats(KvHeads, groups, headDim, MaxSplits)];
        ushort[] keys16 = ToBFloat16(keys), values16 = ToBFloat16(values);
        using var workers = new DecodeWorkers(threads);
        fixed (float* pq = q, pk = keys, pv = values, pp = partials, po = actual)
        fixed (ushort* pk16 = keys16, pv16 = values16)
        {
            var job = new AttentionJob(KvHeads, groups, headDim, pp, MaxSplits);
            int parts = bf16
                ? job.Prepare(pq, pk16, pv16, capacity, true, length, threads)
                : job.Prepare(pq, pk, pv, capacity, false, length, threads);
            workers.Run(job, parts);
            job.MergeInto(po);
        }

        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"NaN at {i}: a slot past the length was read");
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        }

        // float32 accumulation over at most ~1000 terms of O(1): a few ulps of the outputs.
        Assert.True(worst < 2e-5, $"max |diff| {worst}");
    }

    private static double[] Reference(float[] q, float[] keys, float[] values, int kvHeads, int groups, int headDim, int capacity, int length)
    {
        double[] output = new double[kvHeads * groups * headDim];
        double scale = 1.0 / Math.Sqrt(headDim);
        for (int kv = 0; kv < kvHeads; kv++)
        {
            for (int g = 0; g < groups; g++)
            {
                int head = (kv * groups) + g;
                double[] scores = new double[length];
                for (int j = 0; j < length; j++)
                {
                    double dot = 0;
                    for (int d = 0; d < headDim; d++)
                    {
                        dot += (double)q[(head * headDim) + d] * keys[(((kv * capacity) + j) * headDim) + d];
                    }

                    scores[j] = dot * scale;
                }

                double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                for (int j = 0; j < length; j++)
                {
                    double w = Math.Exp(scores[j] - max) / sum;
                    for (int d = 0; d < headDim; d++)
                    {
                        output[(head * headDim) + d] += w * values[(((kv * capacity) + j) * headDim) + d];
                    }
                }
            }
        }

        return output;
    }

    private static float[] Fill(Random random, int n, float scale)
    {
        float[] v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        return v;
    }

    // Values exactly representable in bfloat16, so the float32 reference sees what the bfloat16 cache holds.
    private static void Round(float[] v)
    {
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(v[i]) & unchecked((int)0xFFFF0000));
        }
    }

    private static ushort[] ToBFloat16(float[] v)
    {
        ushort[] bits = new ushort[v.Length];
        ReadOnlySpan<uint> raw = MemoryMarshal.Cast<float, uint>(v);
        for (int i = 0; i < v.Length; i++)
        {
            bits[i] = (ushort)(raw[i] >> 16);
        }

        return bits;
    }
}
