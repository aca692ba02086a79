using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Idefics3.Modeling.FastDecode;

/// <summary>
/// Attention of one query position over the KV cache, read in place: softmax(q·Kᵀ·scale)·V for the query heads of one
/// KV head (grouped-query attention without repeating K/V: each cached row is read once for the whole group), over a
/// range of positions with an online (blockwise) softmax. A range yields a partial result (running max, sum, weighted
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

        for (int b0 = start; b0 < end; b0 += Block)
        {
            int count = Math.Min(Block, end - b0);
            for (int j = 0; j < count; j++)
            {
                long row = (long)(b0 + j) * headDim;
                for (int g = 0; g < groups; g++)
                {
                    float dot = isBFloat16
                        ? GemvKernel.DotBFloat16((ushort*)keys + row, q + (g * headDim), headDim)
                        : GemvKernel.DotFloat((float*)keys + row, q + (g * headDim), headDim);
                    scores[(g * Block) + j] = dot * scale;
                }
            }

            for (int g = 0; g < groups; g++)
            {
                float* s = scores + (g * Block);
                float* p = partial + (g * stride);
                float blockMax = float.NegativeInfinity;
                for (int j = 0; j < count; j++)
                {
                    blockMax = Math.Max(blockMax, s[j]);
                }

                float max = Math.Max(p[0], blockMax);
                float correction = MathF.Exp(p[0] - max);
                p[0] = max;
                p[1] *= correction;
                if (correction != 1f)
                {
                    Scale(p + 2, correction, headDim);
                }

                p[1] += ExpShifted(s, count, max);
            }

            for (int j = 0; j < count; j++)
            {
                long row = (long)(b0 + j) * headDim;
                for (int g = 0; g < groups; g++)
                {
                    float weight = scores[(g * Block) + j];
                    float* acc = partial + (g * stride) + 2;
                    if (isBFloat16)
                    {
                        AxpyBFloat16(weight, (ushort*)values + row, acc, headDim);
                    }
                    else
                    {
                        AxpyFloat(weight, (float*)values + row, acc, headDim);
                    }
                }
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
    private static void AxpyBFloat16(float a, ushort* x, float* y, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> va = Vector512.Create(a);
            for (; i + 32 <= n; i += 32)
            {
                Vector512<ushort> v = Vector512.Load(x + i);
                Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(v), 16).AsSingle(), va, Vector512.Load(y + i)).Store(y + i);
                Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(v), 16).AsSingle(), va, Vector512.Load(y + i + 16)).Store(y + i + 16);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(a);
            for (; i + 16 <= n; i += 16)
            {
                Vector256<ushort> v = Vector256.Load(x + i);
                Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenLower(v), 16).AsSingle(), va, Vector256.Load(y + i)).Store(y + i);
                Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenUpper(v), 16).AsSingle(), va, Vector256.Load(y + i + 8)).Store(y + i + 8);
            }
        }

        for (; i < n; i++)
        {
            y[i] = MathF.FusedMultiplyAdd(BitConverter.Int32BitsToSingle(x[i] << 16), a, y[i]);
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
