using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Idefics3.Modeling.FastDecode;

/// <summary>
/// y[r] = W[r, :] · x for a range of rows, streaming the weights once: AVX-512 (or AVX2) float32 accumulation with a
/// scalar tail, bfloat16 weights widened to float32 by a 16-bit shift. x is float32 and stays in L1.
/// </summary>
internal static unsafe class GemvKernel
{
    /// <summary>Computes rows <paramref name="first"/>..<paramref name="end"/> of W·x into y (indexed by row).</summary>
    /// <param name="w">The weight matrix.</param>
    /// <param name="x">Input [cols].</param>
    /// <param name="y">Output [rows].</param>
    /// <param name="first">First row.</param>
    /// <param name="end">End row (exclusive).</param>
    public static void Rows(in WeightMatrix w, float* x, float* y, int first, int end)
    {
        int cols = w.Cols;
        if (w.IsBFloat16)
        {
            ushort* data = (ushort*)w.Data;
            for (int r = first; r < end; r++)
            {
                y[r] = DotBFloat16(data + ((long)r * cols), x, cols);
            }
        }
        else
        {
            float* data = (float*)w.Data;
            for (int r = first; r < end; r++)
            {
                y[r] = DotFloat(data + ((long)r * cols), x, cols);
            }
        }
    }

    /// <summary>Σ w[i]·x[i] with bfloat16 w.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DotBFloat16(ushort* w, float* x, int n)
    {
        int c = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 32)
        {
            Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; c + 64 <= n; c += 64)
            {
                Vector512<ushort> v0 = Vector512.Load(w + c);
                Vector512<ushort> v1 = Vector512.Load(w + c + 32);
                a0 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(v0), 16).AsSingle(), Vector512.Load(x + c), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(v0), 16).AsSingle(), Vector512.Load(x + c + 16), a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(v1), 16).AsSingle(), Vector512.Load(x + c + 32), a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(v1), 16).AsSingle(), Vector512.Load(x + c + 48), a3);
            }

            for (; c + 32 <= n; c += 32)
            {
                Vector512<ushort> v0 = Vector512.Load(w + c);
                a0 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(v0), 16).AsSingle(), Vector512.Load(x + c), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(v0), 16).AsSingle(), Vector512.Load(x + c + 16), a1);
            }

            sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 16)
        {
            Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; c + 32 <= n; c += 32)
            {
                Vector256<ushort> v0 = Vector256.Load(w + c);
                Vector256<ushort> v1 = Vector256.Load(w + c + 16);
                a0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenLower(v0), 16).AsSingle(), Vector256.Load(x + c), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenUpper(v0), 16).AsSingle(), Vector256.Load(x + c + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenLower(v1), 16).AsSingle(), Vector256.Load(x + c + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenUpper(v1), 16).AsSingle(), Vector256.Load(x + c + 24), a3);
            }

            for (; c + 16 <= n; c += 16)
            {
                Vector256<ushort> v0 = Vector256.Load(w + c);
                a0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenLower(v0), 16).AsSingle(), Vector256.Load(x + c), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenUpper(v0), 16).AsSingle(), Vector256.Load(x + c + 8), a1);
            }

            sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        }

        for (; c < n; c++)
        {
            sum = MathF.FusedMultiplyAdd(BitConverter.Int32BitsToSingle(w[c] << 16), x[c], sum);
        }

        return sum;
    }

    /// <summary>Σ a[i]·b[i] in float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DotFloat(float* a, float* b, int n)
    {
        int c = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; c + 64 <= n; c += 64)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + c), Vector512.Load(b + c), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + c + 16), Vector512.Load(b + c + 16), a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(a + c + 32), Vector512.Load(b + c + 32), a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(a + c + 48), Vector512.Load(b + c + 48), a3);
            }

            for (; c + 16 <= n; c += 16)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + c), Vector512.Load(b + c), a0);
            }

            sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; c + 32 <= n; c += 32)
            {
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + c), Vector256.Load(b + c), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + c + 8), Vector256.Load(b + c + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(a + c + 16), Vector256.Load(b + c + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(a + c + 24), Vector256.Load(b + c + 24), a3);
            }

            for (; c + 8 <= n; c += 8)
            {
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + c), Vector256.Load(b + c), a0);
            }

            sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        }

        for (; c < n; c++)
        {
            sum = MathF.FusedMultiplyAdd(a[c], b[c], sum);
        }

        return sum;
    }
}
