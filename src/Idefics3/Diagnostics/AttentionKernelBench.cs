using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Idefics3.Configuration;
using Idefics3.Modeling;
using Idefics3.Modeling.FastDecode;
using Idefics3.Runtime;

namespace Idefics3.Diagnostics;

/// <summary>
/// The C# step's one-query attention alone, on one thread, over layer 0 of a prefilled cache: best of many repetitions,
/// so a busy machine (which inflates the step's wall-clock phases) hardly moves it. It measures the kernel's own cost;
/// the cache stays warm in the CPU caches between repetitions, unlike in a real step.
/// </summary>
internal static unsafe class AttentionKernelBench
{
    public static (double Microseconds, double CacheGBps) Run(TextConfig c, KvCache cache, bool bf16, int repetitions)
    {
        int groups = c.NumAttentionHeads / c.NumKeyValueHeads, hd = c.HeadDim, length = (int)cache.Length;
        const int MaxSplits = 16;
        float* q = (float*)NativeMemory.AlignedAlloc((nuint)(c.NumAttentionHeads * hd * sizeof(float)), 64);
        float* output = (float*)NativeMemory.AlignedAlloc((nuint)(c.NumAttentionHeads * hd * sizeof(float)), 64);
        float* partials = (float*)NativeMemory.AlignedAlloc((nuint)(AttentionJob.PartialFloats(c.NumKeyValueHeads, groups, hd, MaxSplits) * sizeof(float)), 64);
        try
        {
            var random = new Random(5);
            for (int i = 0; i < c.NumAttentionHeads * hd; i++)
            {
                q[i] = (float)(random.NextDouble() - 0.5);
            }

            var job = new AttentionJob(c.NumKeyValueHeads, groups, hd, partials, MaxSplits);
            using var workers = new DecodeWorkers(1);
            void* keys = TensorData.Pointer(cache.KeyBuffer(0)), values = TensorData.Pointer(cache.ValueBuffer(0));
            double best = double.MaxValue;
            for (int r = 0; r < repetitions; r++)
            {
                long t = Stopwatch.GetTimestamp();
                workers.Run(job, job.Prepare(q, keys, values, cache.Capacity, bf16, length, 1));
                job.MergeInto(output);
                best = Math.Min(best, Stopwatch.GetElapsedTime(t).TotalMicroseconds);
            }

            double bytes = 2.0 * c.NumKeyValueHeads * length * hd * (bf16 ? 2 : 4);
            return (best, bytes / best / 1e3);
        }
        finally
        {
            NativeMemory.AlignedFree(q);
            NativeMemory.AlignedFree(output);
            NativeMemory.AlignedFree(partials);
        }
    }

    public static string Describe(TextConfig c, KvCache cache, bool bf16) =>
        string.Create(CultureInfo.InvariantCulture, $"attention kernel alone (layer 0, {c.NumKeyValueHeads} KV heads x {c.NumAttentionHeads / c.NumKeyValueHeads} query heads, head size {c.HeadDim}, {cache.Length} positions, 1 thread, best of 400)");
}
