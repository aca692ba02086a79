using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Idefics3.Modeling.FastDecode;

/// <summary>
/// The two products of one-query attention over a block of cached rows, several rows per pass:
/// <see cref="Scores"/> (q·Kᵀ for a block of key rows: four rows at once, whose four horizontal sums are folded into one
/// vector instead of four separate reductions) and <see cref="Accumulate"/> (acc += Σⱼ wⱼ·V[j] for a block of value
/// rows: the accumulator stays in registers across the block instead of being loaded and stored per row).
/// AVX-512 or AVX2 with float32 accumulation where the head size allows it (bfloat16: a multiple of 32 / 16; float32:
/// of 16 / 8), otherwise plain per-row loops.
/// </summary>
internal static unsafe class AttentionRows
{
    /// <summary>s[j] = scale · (q · K[j]) for rows j in [0, count) of a cache block.</summary>
    /// <param name="q">The query head [headDim].</param>
    /// <param name="keys">The block's first key row; rows are headDim elements apart (bfloat16 or float32).</param>
    /// <param name="isBFloat16">The cache element type.</param>
    /// <param name="headDim">Head size.</param>
    /// <param name="count">Rows.</param>
    /// <param name="scale">The factor applied to every dot product.</param>
    /// <param name="s">Output [count].</param>
    public static void Scores(float* q, void* keys, bool isBFloat16, int headDim, int count, float scale, float* s)
    {
        int j = 0;
        if (isBFloat16)
        {
            ushort* k = (ushort*)keys;
            if (Vector512.IsHardwareAccelerated && headDim % 32 == 0)
            {
                for (; j + 4 <= count; j += 4)
                {
                    (Vector128.Create(scale) * Dot4BFloat16Avx512(q, k + ((long)j * headDim), headDim)).Store(s + j);
                }
            }
            else if (Vector256.IsHardwareAccelerated && headDim % 16 == 0)
            {
                for (; j + 4 <= count; j += 4)
                {
                    (Vector128.Create(scale) * Dot4BFloat16Avx2(q, k + ((long)j * headDim), headDim)).Store(s + j);
                }
            }

            for (; j < count; j++)
            {
                s[j] = GemvKernel.DotBFloat16(k + ((long)j * headDim), q, headDim) * scale;
            }
        }
        else
        {
            float* k = (float*)keys;
            if (Vector512.IsHardwareAccelerated && headDim % 16 == 0)
            {
                for (; j + 4 <= count; j += 4)
                {
                    (Vector128.Create(scale) * Dot4FloatAvx512(q, k + ((long)j * headDim), headDim)).Store(s + j);
                }
            }
            else if (Vector256.IsHardwareAccelerated && headDim % 8 == 0)
            {
                for (; j + 4 <= count; j += 4)
                {
                    (Vector128.Create(scale) * Dot4FloatAvx2(q, k + ((long)j * headDim), headDim)).Store(s + j);
                }
            }

            for (; j < count; j++)
            {
                s[j] = GemvKernel.DotFloat(k + ((long)j * headDim), q, headDim) * scale;
            }
        }
    }

    /// <summary>acc += Σ w[j]·V[j] for rows j in [0, count) of a cache block.</summary>
    /// <param name="w">The softmax weights [count].</param>
    /// <param name="values">The block's first value row; rows are headDim elements apart.</param>
    /// <param name="isBFloat16">The cache element type.</param>
    /// <param name="headDim">Head size.</param>
    /// <param name="count">Rows.</param>
    /// <param name="acc">The accumulator [headDim].</param>
    public static void Accumulate(float* w, void* values, bool isBFloat16, int headDim, int count, float* acc)
    {
        if (isBFloat16)
        {
            ushort* v = (ushort*)values;
            if (Vector512.IsHardwareAccelerated && headDim % 32 == 0)
            {
                for (int c = 0; c < headDim; c += 32)
                {
                    // Two chains per half (even and odd rows) so consecutive FMAs do not wait for each other.
                    Vector512<float> lo = Vector512.Load(acc + c), hi = Vector512.Load(acc + c + 16);
                    Vector512<float> lo1 = Vector512<float>.Zero, hi1 = lo1;
                    ushort* p = v + c;
                    int j = 0;
                    for (; j + 2 <= count; j += 2, p += 2 * headDim)
                    {
                        Vector512<ushort> x = Vector512.Load(p), y = Vector512.Load(p + headDim);
                        Vector512<float> wx = Vector512.Create(w[j]), wy = Vector512.Create(w[j + 1]);
                        lo = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(x), 16).AsSingle(), wx, lo);
                        hi = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(x), 16).AsSingle(), wx, hi);
                        lo1 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(y), 16).AsSingle(), wy, lo1);
                        hi1 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(y), 16).AsSingle(), wy, hi1);
                    }

                    if (j < count)
                    {
                        Vector512<ushort> x = Vector512.Load(p);
                        Vector512<float> wx = Vector512.Create(w[j]);
                        lo = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(x), 16).AsSingle(), wx, lo);
                        hi = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(x), 16).AsSingle(), wx, hi);
                    }

                    (lo + lo1).Store(acc + c);
                    (hi + hi1).Store(acc + c + 16);
                }

                return;
            }

            if (Vector256.IsHardwareAccelerated && headDim % 16 == 0)
            {
                for (int c = 0; c < headDim; c += 16)
                {
                    Vector256<float> lo = Vector256.Load(acc + c), hi = Vector256.Load(acc + c + 8);
                    ushort* p = v + c;
                    for (int j = 0; j < count; j++, p += headDim)
                    {
                        Vector256<ushort> x = Vector256.Load(p);
                        Vector256<float> wj = Vector256.Create(w[j]);
                        lo = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenLower(x), 16).AsSingle(), wj, lo);
                        hi = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenUpper(x), 16).AsSingle(), wj, hi);
                    }

                    lo.Store(acc + c);
                    hi.Store(acc + c + 8);
                }

                return;
            }

            for (int j = 0; j < count; j++)
            {
                ushort* row = v + ((long)j * headDim);
                for (int d = 0; d < headDim; d++)
                {
                    acc[d] = MathF.FusedMultiplyAdd(BitConverter.Int32BitsToSingle(row[d] << 16), w[j], acc[d]);
                }
            }

            return;
        }

        float* f = (float*)values;
        if (Vector512.IsHardwareAccelerated && headDim % 16 == 0)
        {
            for (int c = 0; c < headDim; c += 16)
            {
                // Two chains (even and odd rows) so consecutive FMAs do not wait for each other.
                Vector512<float> a = Vector512.Load(acc + c), b = Vector512<float>.Zero;
                float* p = f + c;
                int j = 0;
                for (; j + 2 <= count; j += 2, p += 2 * headDim)
                {
                    a = Vector512.FusedMultiplyAdd(Vector512.Load(p), Vector512.Create(w[j]), a);
                    b = Vector512.FusedMultiplyAdd(Vector512.Load(p + headDim), Vector512.Create(w[j + 1]), b);
                }

                if (j < count)
                {
                    a = Vector512.FusedMultiplyAdd(Vector512.Load(p), Vector512.Create(w[j]), a);
                }

                (a + b).Store(acc + c);
            }

            return;
        }

        if (Vector256.IsHardwareAccelerated && headDim % 8 == 0)
        {
            for (int c = 0; c < headDim; c += 8)
            {
                Vector256<float> a = Vector256.Load(acc + c), b = Vector256<float>.Zero;
                float* p = f + c;
                int j = 0;
                for (; j + 2 <= count; j += 2, p += 2 * headDim)
                {
                    a = Vector256.FusedMultiplyAdd(Vector256.Load(p), Vector256.Create(w[j]), a);
                    b = Vector256.FusedMultiplyAdd(Vector256.Load(p + headDim), Vector256.Create(w[j + 1]), b);
                }

                if (j < count)
                {
                    a = Vector256.FusedMultiplyAdd(Vector256.Load(p), Vector256.Create(w[j]), a);
                }

                (a + b).Store(acc + c);
            }

            return;
        }

        for (int j = 0; j < count; j++)
        {
            float* row = f + ((long)j * headDim);
            for (int d = 0; d < headDim; d++)
            {
                acc[d] = MathF.FusedMultiplyAdd(row[d], w[j], acc[d]);
            }
        }
    }

    // q·K[r] for four consecutive rows r = 0..3 (n a multiple of 32).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Dot4BFloat16Avx512(float* q, ushort* k, int n)
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        ushort* k1 = k + n, k2 = k1 + n, k3 = k2 + n;
        for (int c = 0; c < n; c += 32)
        {
            Vector512<float> qlo = Vector512.Load(q + c), qhi = Vector512.Load(q + c + 16);
            Vector512<ushort> x0 = Vector512.Load(k + c), x1 = Vector512.Load(k1 + c), x2 = Vector512.Load(k2 + c), x3 = Vector512.Load(k3 + c);
            a0 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(x0), 16).AsSingle(), qlo, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(x1), 16).AsSingle(), qlo, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(x2), 16).AsSingle(), qlo, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(x3), 16).AsSingle(), qlo, a3);
            a0 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(x0), 16).AsSingle(), qhi, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(x1), 16).AsSingle(), qhi, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(x2), 16).AsSingle(), qhi, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(x3), 16).AsSingle(), qhi, a3);
        }

        return Sum4(a0.GetLower() + a0.GetUpper(), a1.GetLower() + a1.GetUpper(), a2.GetLower() + a2.GetUpper(), a3.GetLower() + a3.GetUpper());
    }

    // q·K[r] for four consecutive rows (n a multiple of 16).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Dot4BFloat16Avx2(float* q, ushort* k, int n)
    {
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        ushort* k1 = k + n, k2 = k1 + n, k3 = k2 + n;
        for (int c = 0; c < n; c += 16)
        {
            Vector256<float> qlo = Vector256.Load(q + c), qhi = Vector256.Load(q + c + 8);
            Vector256<ushort> x0 = Vector256.Load(k + c), x1 = Vector256.Load(k1 + c), x2 = Vector256.Load(k2 + c), x3 = Vector256.Load(k3 + c);
            a0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenLower(x0), 16).AsSingle(), qlo, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenLower(x1), 16).AsSingle(), qlo, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenLower(x2), 16).AsSingle(), qlo, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenLower(x3), 16).AsSingle(), qlo, a3);
            a0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenUpper(x0), 16).AsSingle(), qhi, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenUpper(x1), 16).AsSingle(), qhi, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenUpper(x2), 16).AsSingle(), qhi, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenUpper(x3), 16).AsSingle(), qhi, a3);
        }

        return Sum4(a0, a1, a2, a3);
    }

    // q·K[r] for four consecutive rows (n a multiple of 16).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Dot4FloatAvx512(float* q, float* k, int n)
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        float* k1 = k + n, k2 = k1 + n, k3 = k2 + n;
        for (int c = 0; c < n; c += 16)
        {
            Vector512<float> qc = Vector512.Load(q + c);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(k + c), qc, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(k1 + c), qc, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(k2 + c), qc, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(k3 + c), qc, a3);
        }

        return Sum4(a0.GetLower() + a0.GetUpper(), a1.GetLower() + a1.GetUpper(), a2.GetLower() + a2.GetUpper(), a3.GetLower() + a3.GetUpper());
    }

    // q·K[r] for four consecutive rows (n a multiple of 8).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Dot4FloatAvx2(float* q, float* k, int n)
    {
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        float* k1 = k + n, k2 = k1 + n, k3 = k2 + n;
        for (int c = 0; c < n; c += 8)
        {
            Vector256<float> qc = Vector256.Load(q + c);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(k + c), qc, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(k1 + c), qc, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Load(k2 + c), qc, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Load(k3 + c), qc, a3);
        }

        return Sum4(a0, a1, a2, a3);
    }

    // The four horizontal sums of a, b, c, d as one vector: three pairwise-add shuffles and one lane fold on x86
    // (instead of four full reductions), four reductions elsewhere.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sum4(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        if (Avx.IsSupported)
        {
            // hadd(a, b) per 128-bit lane = [a0+a1, a2+a3, b0+b1, b2+b3]; twice more gives each lane's four sums.
            Vector256<float> h = Avx.HorizontalAdd(Avx.HorizontalAdd(a, b), Avx.HorizontalAdd(c, d));
            return h.GetLower() + h.GetUpper();
        }

        return Vector128.Create(Vector256.Sum(a), Vector256.Sum(b), Vector256.Sum(c), Vector256.Sum(d));
    }
}
