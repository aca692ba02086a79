using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Idefics3.Modeling.FastDecode;

/// <summary>
/// Attention of one query position over the KV cache, read in place: softmax(q·Kᵀ·scale)·V for the query heads of one
/// KV head (grouped-query attention without repeating K/V: each cached row is read once for the whole group), over a
/// range of positions with an online (blockwise) softmax: per block of <see cref="Block"/> positions and query head, the
/// scores four rows at a time and the weighted V sum with the accumulator in registers (<see cref="AttentionRows"/>),
/// then the running max/sum update. A range yields a partial result (running max, sum, weighted
/// V); <see cref="Merge"/> combines the ranges of one head (split-K, so a few KV heads still fill every core).
/// </summary>
internal static unsafe class AttentionKernel
{
    /// <summary>Positions scored together before the running softmax is updated.</summary>
    public const int Block = 64;

    /// <summary>
    /// Computes the partial attention of <paramref name="groups"/> query heads over cached positions [start, end) of
    /// one KV head.
    /// </summary>
    /// <param name="q">The group's query heads [groups, headDim] (after RoPE).</param>
    /// <param name="keys">The KV head's keys [capacity, headDim] (bfloat16 or float32).</param>
    /// <param name="values">The KV head's values [capacity, headDim].</param>
    /// <param name="isBFloat16">The cache element type.</param>
    /// <param name="groups">Query heads per KV head.</param>
    /// <param name="headDim">Head size.</param>
    /// <param name="start">First position.</param>
    /// <param name="end">End position (exclusive; greater than start).</param>
    /// <param name="scale">1/sqrt(headDim).</param>
    /// <param name="partial">Output per query head: [max, sum, acc[headDim]] (headDim + 2 floats each).</param>
    /// <param name="scores">Scratch [groups, Block].</param>
    public static void Partial(
        float* q, void* keys, void* values, bool isBFloat16, int groups, int headDim, int start, int end, float scale, float* partial, float* scores)
    {
        int stride = headDim + 2;
        for (int g = 0; g < groups; g++)
        {
            float* p = partial + (g * stride);
            p[0] = float.NegativeInfinity;
            p[1] = 0;
            new Span<float>(p + 2, headDim).Clear();
        }

        int elementSize = isBFloat16 ? 2 : 4;
        for (int b0 = start; b0 < end; b0 += Block)
        {
            int count = Math.Min(Block, end - b0);
            byte* k = (byte*)keys + ((long)b0 * headDim * elementSize);
            byte* v = (byte*)values + ((long)b0 * headDim * elementSize);

            // Every query head of the group over the same block: the block's K and V rows come from memory once and
            // from L1 for the other heads.
            for (int g = 0; g < groups; g++)
            {
                float* s = scores + (g * Block);
                float* p = partial + (g * stride);
                AttentionRows.Scores(q + (g * headDim), k, isBFloat16, headDim, count, scale, s);
                float max = Math.Max(p[0], Max(s, count));
                float correction = MathF.Exp(p[0] - max);
                p[0] = max;
                p[1] *= correction;
                if (correction != 1f)
                {
                    Scale(p + 2, correction, headDim);
                }

                p[1] += ExpShifted(s, count, max);
                AttentionRows.Accumulate(s, v, isBFloat16, headDim, count, p + 2);
            }
        }
    }

    /// <summary>Combines <paramref name="splits"/> partial results of one query head into its output [headDim].</summary>
    /// <param name="partials">The partials, <paramref name="partialStride"/> floats apart.</param>
    /// <param name="splits">How many.</param>
    /// <param name="partialStride">Distance between two partials of this head.</param>
    /// <param name="headDim">Head size.</param>
    /// <param name="output">The head's output [headDim].</param>
    public static void Merge(float* partials, int splits, int partialStride, int headDim, float* output)
    {
        float max = float.NegativeInfinity;
        for (int i = 0; i < splits; i++)
        {
            max = Math.Max(max, partials[i * partialStride]);
        }

        float sum = 0;
        new Span<float>(output, headDim).Clear();
        for (int i = 0; i < splits; i++)
        {
            float* p = partials + (i * partialStride);
            float w = MathF.Exp(p[0] - max);
            sum += p[1] * w;
            AxpyFloat(w, p + 2, output, headDim);
        }

        float inverse = 1f / sum;
        for (int d = 0; d < headDim; d++)
        {
            output[d] *= inverse;
        }
    }

    private static float Max(float* s, int n)
    {
        int j = 0;
        float max = float.NegativeInfinity;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> m = Vector256.Create(float.NegativeInfinity);
            for (; j + 8 <= n; j += 8)
            {
                m = Vector256.Max(m, Vector256.Load(s + j));
            }

            for (int i = 0; i < 8; i++)
            {
                max = Math.Max(max, m[i]);
            }
        }

        for (; j < n; j++)
        {
            max = Math.Max(max, s[j]);
        }

        return max;
    }

    // s[j] = exp(s[j] - max); returns the sum.
    private static float ExpShifted(float* s, int n, float max)
    {
        int j = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> m = Vector512.Create(max), total = Vector512<float>.Zero;
            for (; j + 16 <= n; j += 16)
            {
                Vector512<float> e = Vector512.Exp(Vector512.Load(s + j) - m);
                e.Store(s + j);
                total += e;
            }

            sum = Vector512.Sum(total);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> m = Vector256.Create(max), total = Vector256<float>.Zero;
            for (; j + 8 <= n; j += 8)
            {
                Vector256<float> e = Vector256.Exp(Vector256.Load(s + j) - m);
                e.Store(s + j);
                total += e;
            }

            sum = Vector256.Sum(total);
        }

        for (; j < n; j++)
        {
            float e = MathF.Exp(s[j] - max);
            s[j] = e;
            sum += e;
        }

        return sum;
    }

    private static void Scale(float* v, float factor, int n)
    {
        for (int i = 0; i < n; i++)
        {
            v[i] *= factor;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AxpyFloat(float a, float* x, float* y, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> va = Vector512.Create(a);
            for (; i + 16 <= n; i += 16)
            {
                Vector512.FusedMultiplyAdd(Vector512.Load(x + i), va, Vector512.Load(y + i)).Store(y + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(a);
            for (; i + 8 <= n; i += 8)
            {
                Vector256.FusedMultiplyAdd(Vector256.Load(x + i), va, Vector256.Load(y + i)).Store(y + i);
            }
        }

        for (; i < n; i++)
        {
            y[i] = MathF.FusedMultiplyAdd(x[i], a, y[i]);
        }
    }
}
