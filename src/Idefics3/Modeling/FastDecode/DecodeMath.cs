using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Idefics3.Modeling.FastDecode;

/// <summary>
/// The small element-wise steps of one decode position, on float32 vectors of one token. With
/// <c>roundBFloat16</c> every result is rounded to bfloat16 where libtorch's bfloat16 op would round it, so the fast
/// path reproduces the libtorch path's arithmetic op for op (float32 models: no rounding at all).
/// </summary>
internal static unsafe class DecodeMath
{
    /// <summary>float32 rounded to the nearest bfloat16 (ties to even), as float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Round(float value) => BitConverter.Int32BitsToSingle(BFloat16Gemv.ToBFloat16(value) << 16);

    /// <summary>Rounds every element of v[0..n) to bfloat16 in place.</summary>
    public static void RoundAll(float* v, int n)
    {
        for (int i = 0; i < n; i++)
        {
            v[i] = Round(v[i]);
        }
    }

    /// <summary>
    /// Optionally h += delta (rounded like a bfloat16 add), then
    /// output = weight · (h · rsqrt(mean(h²) + eps)) (HF LlamaRMSNorm: normalise in float32, cast, scale).
    /// </summary>
    /// <param name="h">The residual stream [n], updated in place when <paramref name="delta"/> is given.</param>
    /// <param name="delta">The block output to add, or null.</param>
    /// <param name="weight">The norm weight [n] (float32).</param>
    /// <param name="output">The normalised result [n].</param>
    /// <param name="n">The hidden size.</param>
    /// <param name="eps">The variance epsilon.</param>
    /// <param name="roundBFloat16">Whether the model computes in bfloat16.</param>
    public static void AddRmsNorm(float* h, float* delta, float* weight, float* output, int n, float eps, bool roundBFloat16)
    {
        if (delta is not null)
        {
            for (int i = 0; i < n; i++)
            {
                float s = h[i] + delta[i];
                h[i] = roundBFloat16 ? Round(s) : s;
            }
        }

        float sum = GemvKernel.DotFloat(h, h, n);
        float r = 1f / MathF.Sqrt((sum / n) + eps);
        for (int i = 0; i < n; i++)
        {
            float y = h[i] * r;
            output[i] = roundBFloat16 ? Round(weight[i] * Round(y)) : weight[i] * y;
        }
    }

    /// <summary>h += delta for the last residual add, rounded like a bfloat16 add.</summary>
    public static void Add(float* h, float* delta, int n, bool roundBFloat16)
    {
        for (int i = 0; i < n; i++)
        {
            float s = h[i] + delta[i];
            h[i] = roundBFloat16 ? Round(s) : s;
        }
    }

    /// <summary>
    /// RoPE (rotate_half, non-interleaved) on <paramref name="heads"/> consecutive heads of <paramref name="headDim"/>:
    /// x·cos + rotate_half(x)·sin, with cos/sin [headDim/2] of this position (the two halves share them).
    /// </summary>
    public static void Rope(float* x, int heads, int headDim, float* cos, float* sin, bool roundBFloat16)
    {
        int half = headDim / 2;
        for (int head = 0; head < heads; head++)
        {
            float* v = x + (head * headDim);
            for (int i = 0; i < half; i++)
            {
                float a = v[i], b = v[i + half];
                float c = cos[i], s = sin[i];
                if (roundBFloat16)
                {
                    v[i] = Round(Round(a * c) + Round(-b * s));
                    v[i + half] = Round(Round(b * c) + Round(a * s));
                }
                else
                {
                    float ac = a * c, bs = -b * s, bc = b * c, as_ = a * s;
                    v[i] = ac + bs;
                    v[i + half] = bc + as_;
                }
            }
        }
    }

    /// <summary>
    /// gate[i] = silu(gate[i]) · up[i] (SwiGLU; in bfloat16 silu and the product each round), over n elements.
    /// </summary>
    public static void SiluMul(float* gate, float* up, int n, bool roundBFloat16)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && !roundBFloat16)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> g = Vector512.Load(gate + i);
                Vector512<float> silu = g / (Vector512<float>.One + Vector512.Exp(-g));
                (silu * Vector512.Load(up + i)).Store(gate + i);
            }
        }

        for (; i < n; i++)
        {
            float g = gate[i];
            float silu = g / (1f + MathF.Exp(-g));
            gate[i] = roundBFloat16 ? Round(Round(silu) * up[i]) : silu * up[i];
        }
    }

    /// <summary>Converts a bfloat16 or float32 row (an embedding) to float32.</summary>
    public static void Load(void* source, bool isBFloat16, float* destination, int n)
    {
        if (isBFloat16)
        {
            ushort* s = (ushort*)source;
            for (int i = 0; i < n; i++)
            {
                destination[i] = BitConverter.Int32BitsToSingle(s[i] << 16);
            }
        }
        else
        {
            new ReadOnlySpan<float>(source, n).CopyTo(new Span<float>(destination, n));
        }
    }

    /// <summary>Stores float32 values (already rounded when bfloat16) as bfloat16 or float32 elements.</summary>
    public static void Store(float* source, void* destination, bool isBFloat16, int n)
    {
        if (isBFloat16)
        {
            ushort* d = (ushort*)destination;
            for (int i = 0; i < n; i++)
            {
                d[i] = BFloat16Gemv.ToBFloat16(source[i]);
            }
        }
        else
        {
            new ReadOnlySpan<float>(source, n).CopyTo(new Span<float>(destination, n));
        }
    }
}
