using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Idefics3.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Diagnostics;

/// <summary>
/// <c>idefics3 bench --page-faults</c>: minor page faults (first touches of fresh 4 KB pages: the kernel's minflt
/// count, as <c>getrusage</c> reports it) and time of a text prefill, with a KV cache created per request and with one cache reused, and of the
/// vision tower on 1 tile, on 4 tiles in one call (chunks of the model's VisionChunkSize) and on the same 4 tiles one
/// call each, after one warm-up of each; plus the cost of one fault on this machine (touching a
/// fresh native buffer), so the faults can be turned into a share of each phase's time.
/// </summary>
internal sealed class PageFaultBench(TextWriter log)
{
    public void Run(Idefics3ForConditionalGeneration model, int context, int repeats)
    {
        using var mode = inference_mode();
        int tile = model.Config.Vision.ImageSize;
        double faultMicros = FaultCostMicroseconds();
        log.WriteLine(Invariant($"One minor page fault costs {faultMicros:F2} us here (touching a fresh 256 MB native buffer)."));
        log.WriteLine(Invariant($"{"phase",-44} {"ms",9} {"faults",9} {"MB first-touched",17} {"fault share",12}"));
        using Tensor ids = torch.randint(0, 250, [1, context], generator: new Generator(1));
        using KvCache reused = model.CreateCache(1, context + 1);
        using Tensor one = RandomPixels(1, tile);
        using Tensor four = RandomPixels(4, tile);
        var phases = new (string Name, Action Run)[]
        {
            (Invariant($"prefill {context} tokens, cache per request"), () =>
            {
                using KvCache cache = model.CreateCache(1, context + 1);
                Prefill(model, ids, context, cache);
            }),
            (Invariant($"prefill {context} tokens, cache reused"), () =>
            {
                reused.Crop(0);
                Prefill(model, ids, context, reused);
            }),
            ("vision tower + connector, 1 tile", () => model.EncodeImages(one).Dispose()),
            ("vision tower + connector, 4 tiles", () => model.EncodeImages(four).Dispose()),
            ("vision, 4 tiles one at a time", () =>
            {
                for (long i = 0; i < 4; i++)
                {
                    using Tensor frame = four.narrow(0, i, 1);
                    model.EncodeImages(frame).Dispose();
                }
            }),
        };
        foreach ((string name, Action run) in phases)
        {
            run();   // warm-up: weights paged in, allocator caches primed
            for (int r = 0; r < repeats; r++)
            {
                long faults = MinorFaults();
                var sw = Stopwatch.StartNew();
                run();
                double ms = sw.Elapsed.TotalMilliseconds;
                long n = MinorFaults() - faults;
                log.WriteLine(Invariant($"{name,-44} {ms,9:F0} {n,9} {n * 4096 / 1e6,17:F0} {n * faultMicros / 1000 / ms * 100,11:F1}%"));
            }
        }
    }

    private static void Prefill(Idefics3ForConditionalGeneration model, Tensor ids, int context, KvCache cache)
    {
        using var scope = NewDisposeScope();
        model.Forward(model.EmbedTokens(ids), torch.arange(context).view(1, context), null, cache, lastPositionOnly: true);
    }

    // Uniform pixels in [-1, 1) [frames, 3, tile, tile].
    private static Tensor RandomPixels(int frames, int tile)
    {
        using var scope = NewDisposeScope();
        using Scalar two = 2.0.ToScalar();
        using Scalar one = 1.0.ToScalar();
        return torch.rand([frames, 3, tile, tile], generator: new Generator(2)).mul(two).sub(one).MoveToOuterDisposeScope();
    }

    // Mean cost of one minor fault: touch every page of a fresh buffer (large enough that malloc maps it anew).
    private static unsafe double FaultCostMicroseconds()
    {
        const long Bytes = 256L << 20;
        double best = double.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            byte* p = (byte*)NativeMemory.Alloc((nuint)Bytes);
            try
            {
                long faults = MinorFaults();
                long t = Stopwatch.GetTimestamp();
                for (long i = 0; i < Bytes; i += 4096)
                {
                    p[i] = 1;
                }

                double us = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
                long n = MinorFaults() - faults;
                best = Math.Min(best, us / Math.Max(1, n));
            }
            finally
            {
                NativeMemory.Free(p);
            }
        }

        return best;
    }

    private static long MinorFaults() => DecodeStepBench.MinorFaults();

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
