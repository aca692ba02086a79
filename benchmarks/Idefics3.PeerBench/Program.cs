using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Idefics3.Modeling;
using LLama;
using LLama.Common;
using LLama.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.PeerBench;

/// <summary>
/// Decode speed of this library against llama.cpp (LLamaSharp 0.30, CPU backend) on the same random bfloat16 weights:
/// the model folder's language model is written as a BF16 GGUF, both engines prefill the same context, then decode
/// greedily in interleaved rounds, each round with a read-bandwidth probe beside it.
/// Usage: Idefics3.PeerBench --model &lt;folder written by `idefics3 bench --shape ...`&gt; [--context 1100] [--tokens 32]
/// [--rounds 3] [--threads 2] [--weights-in-memory].
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        string? folder = Arg(args, "--model");
        if (folder is null || !File.Exists(Path.Combine(folder, "config.json")))
        {
            Console.Error.WriteLine("usage: Idefics3.PeerBench --model <bfloat16 model folder> [--context 1100] [--tokens 32] [--rounds 3] [--threads 2] [--weights-in-memory]");
            return 2;
        }

        int context = int.Parse(Arg(args, "--context") ?? "1100", CultureInfo.InvariantCulture);
        int tokens = int.Parse(Arg(args, "--tokens") ?? "32", CultureInfo.InvariantCulture);
        int rounds = int.Parse(Arg(args, "--rounds") ?? "3", CultureInfo.InvariantCulture);
        int threads = int.Parse(Arg(args, "--threads") ?? "2", CultureInfo.InvariantCulture);

        string gguf = Path.Combine(folder, "language-model-bf16.gguf");
        if (!File.Exists(gguf))
        {
            Console.WriteLine($"Writing {gguf} ...");
            GgufWriter.Write(folder, gguf + ".tmp");
            File.Move(gguf + ".tmp", gguf);
        }

        Idefics3.Runtime.TorchRuntime.EnsureLoaded();
        NativeLibraryConfig.All.WithLogCallback((level, message) => { });
        using var ours = Idefics3ForConditionalGeneration.Load(folder, new ModelLoadOptions { Dtype = ScalarType.BFloat16, ReadWeightsIntoMemory = args.Contains("--weights-in-memory") });
        var parameters = new ModelParams(gguf)
        {
            ContextSize = (uint)(context + (rounds * tokens) + 16),
            Threads = threads,
            BatchThreads = threads,
            BatchSize = 512,
            GpuLayerCount = 0,
        };
        using LLamaWeights weights = LLamaWeights.LoadFromFile(parameters);
        using LLamaContext llama = weights.CreateContext(parameters);
        int vocab = ours.Config.Text.VocabSize;
        int[] prompt = [.. Enumerable.Range(0, context).Select(i => 300 + (i * 7919 % (vocab - 300)))];

        // Prefill both (not compared: only decode is).
        using var mode = inference_mode();
        using KvCache cache = ours.CreateCache(1, context + (rounds * tokens) + 1);
        int ourToken, llamaToken;
        using (NewDisposeScope())
        {
            Tensor ids = torch.tensor(prompt.Select(i => (long)i).ToArray(), [1, context]);
            ourToken = (int)ours.Forward(ours.EmbedTokens(ids), torch.arange(context).view(1, context), null, cache, true).argmax().item<long>();
        }

        var batch = new LLamaBatch();
        for (int start = 0; start < context; start += 512)
        {
            batch.Clear();
            int end = Math.Min(context, start + 512);
            for (int i = start; i < end; i++)
            {
                batch.Add(prompt[i], i, LLamaSeqId.Zero, i == context - 1);
            }

            Check(llama.Decode(batch));
        }

        llamaToken = ArgMax(llama.NativeHandle.GetLogitsIth(batch.TokenCount - 1));
        int llamaPosition = context;
        Console.WriteLine($"Prefilled {context} tokens in both; decoding {tokens} tokens per round (rate over tokens 2..N), {threads} llama.cpp threads");
        Console.WriteLine($"{"round",-6} {"read GB/s",10} {"ours tok/s",11} {"llama.cpp tok/s",16} {"ratio",7}");
        var ratios = new List<double>();
        var oursRates = new List<double>();
        var llamaRates = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            double bandwidth = ReadBandwidthGBps(threads);
            var sw = new Stopwatch();
            for (int step = 0; step < tokens; step++)
            {
                if (step == 1)
                {
                    sw.Start();
                }

                using var scope = NewDisposeScope();
                Tensor logits = ours.Forward(
                    ours.EmbedTokens(torch.tensor(new long[] { ourToken }, [1, 1])), torch.tensor(new long[] { cache.Length }, [1, 1]), null, cache, true);
                ourToken = (int)logits.argmax().item<long>();
            }

            double oursRate = (tokens - 1) / sw.Elapsed.TotalSeconds;
            sw.Reset();
            for (int step = 0; step < tokens; step++)
            {
                if (step == 1)
                {
                    sw.Start();
                }

                batch.Clear();
                batch.Add(llamaToken, llamaPosition++, LLamaSeqId.Zero, true);
                Check(llama.Decode(batch));
                llamaToken = ArgMax(llama.NativeHandle.GetLogitsIth(0));
            }

            double llamaRate = (tokens - 1) / sw.Elapsed.TotalSeconds;
            oursRates.Add(oursRate);
            llamaRates.Add(llamaRate);
            ratios.Add(oursRate / llamaRate);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,-6} {bandwidth,10:F1} {oursRate,11:F1} {llamaRate,16:F1} {oursRate / llamaRate,7:F2}"));
        }

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"median: ours {Median(oursRates):F1} tok/s, llama.cpp {Median(llamaRates):F1} tok/s, ratio {Median(ratios):F2} (best: {oursRates.Max():F1} vs {llamaRates.Max():F1})"));
        return 0;
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp decode failed: {result}");
        }
    }

    private static int ArgMax(Span<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    // Read-only streaming over 256 MB of native memory, one thread per core, best of 3.
    private static unsafe double ReadBandwidthGBps(int threads)
    {
        const long Bytes = 256L << 20;
        float* data = (float*)NativeMemory.AlignedAlloc((nuint)Bytes, 64);
        try
        {
            new Span<byte>(data, (int)Bytes).Fill(1);
            double best = 0;
            for (int r = 0; r < 3; r++)
            {
                var sw = Stopwatch.StartNew();
                long per = Bytes / 4 / threads;
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, p =>
                {
                    float* s = data + (p * per);
                    Vector256<float> a = Vector256<float>.Zero, b = a, c = a, d = a;
                    for (long i = 0; i + 32 <= per; i += 32)
                    {
                        a += Vector256.Load(s + i);
                        b += Vector256.Load(s + i + 8);
                        c += Vector256.Load(s + i + 16);
                        d += Vector256.Load(s + i + 24);
                    }

                    GC.KeepAlive(Vector256.Sum(a + b + c + d));
                });
                best = Math.Max(best, Bytes / sw.Elapsed.TotalSeconds / 1e9);
            }

            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(data);
        }
    }
}
