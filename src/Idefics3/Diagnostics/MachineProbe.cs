using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Diagnostics;

/// <summary>The machine's own roofline, measured in-process: read bandwidth, GEMM peaks and a small-GEMV probe.</summary>
public static class MachineProbe
{
    /// <summary>Measures read bandwidth (GB/s) with a multi-accumulator SIMD sum, one thread per core.</summary>
    /// <param name="threads">Reader threads (usually the core count).</param>
    /// <param name="bytes">Native memory read per repetition (1 GiB by default).</param>
    /// <param name="repetitions">Repetitions; the best is returned.</param>
    /// <returns>The best read bandwidth in GB/s.</returns>
    public static unsafe double ReadBandwidthGBps(int threads, long bytes = 1L << 30, int repetitions = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 64L * 1024 * threads);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        // Native memory, freed at the end: a managed array would stay committed and inflate the measured RSS afterwards.
        nuint size = (nuint)bytes;
        float* data = (float*)NativeMemory.AlignedAlloc(size, 64);
        try
        {
            long count = bytes / sizeof(float);
            long chunk = count / threads / 64 * 64;
            Parallel.For(0, threads, t => new Span<float>(data + (t * chunk), (int)chunk).Fill(1.0f));

            double best = 0;
            for (int r = 0; r < repetitions; r++)
            {
                var sw = Stopwatch.StartNew();
                float total = 0;
                object gate = new();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    float s = SumChunk(new ReadOnlySpan<float>(data + (t * chunk), (int)chunk));
                    lock (gate)
                    {
                        total += s;
                    }
                });
                sw.Stop();
                if (total <= 0)
                {
                    throw new InvalidOperationException("bandwidth probe summed to zero");
                }

                best = Math.Max(best, chunk * threads * (double)sizeof(float) / sw.Elapsed.TotalSeconds / 1e9);
            }

            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(data);
        }
    }

    private static float SumChunk(ReadOnlySpan<float> span)
    {
        ReadOnlySpan<Vector512<float>> v = MemoryMarshal.Cast<float, Vector512<float>>(span);
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 <= v.Length; i += 4)
        {
            a0 += v[i];
            a1 += v[i + 1];
            a2 += v[i + 2];
            a3 += v[i + 3];
        }

        for (; i < v.Length; i++)
        {
            a0 += v[i];
        }

        return Vector512.Sum(a0 + a1 + a2 + a3);
    }

    /// <summary>Measures the best matmul rate (GFLOP/s) of an m×k by k×n product in the given dtype.</summary>
    /// <param name="dtype">The element type.</param>
    /// <param name="m">Rows of the left operand.</param>
    /// <param name="k">The shared dimension.</param>
    /// <param name="n">Columns of the right operand.</param>
    /// <param name="repetitions">Repetitions (after one warm-up); the best is returned.</param>
    /// <returns>The best rate in GFLOP/s (a multiply-add counts 2).</returns>
    public static double GemmGflops(ScalarType dtype, long m, long k, long n, int repetitions = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var a = randn(new[] { m, k }, dtype: ScalarType.Float32).to(dtype);
        var b = randn(new[] { k, n }, dtype: ScalarType.Float32).to(dtype);
        _ = a.matmul(b); // warm-up
        double best = 0;
        for (int r = 0; r < repetitions; r++)
        {
            var sw = Stopwatch.StartNew();
            using var c = a.matmul(b);
            sw.Stop();
            best = Math.Max(best, 2.0 * m * k * n / sw.Elapsed.TotalSeconds / 1e9);
        }

        return best;
    }

    /// <summary>
    /// Times a small bfloat16 GEMV (960×960, what a small model's decode does hundreds of times per token) and returns
    /// its median in milliseconds. In this VM's slow state it takes about 8 ms whatever its size.
    /// </summary>
    /// <param name="repetitions">Repetitions; the median is returned.</param>
    /// <returns>The median time of one GEMV in milliseconds.</returns>
    public static double SmallGemvMedianMs(int repetitions = 31)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var w = randn(new long[] { 960, 960 }).to(ScalarType.BFloat16);
        var x = randn(new long[] { 1, 960 }).to(ScalarType.BFloat16);
        var times = new double[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            var sw = Stopwatch.StartNew();
            using var y = nn.functional.linear(x, w);
            sw.Stop();
            times[r] = sw.Elapsed.TotalMilliseconds;
        }

        Array.Sort(times);
        return times[repetitions / 2];
    }
}
