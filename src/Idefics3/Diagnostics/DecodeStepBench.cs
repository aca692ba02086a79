using System.Diagnostics;
using System.Globalization;
using Idefics3.Generation;
using Idefics3.Modeling;
using Idefics3.Modeling.FastDecode;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Diagnostics;

/// <summary>
/// <c>idefics3 bench --decode-step</c>: one decode step at a given context, the libtorch step against the C# step
/// (<see cref="FastDecoder"/>, 1 and 2 threads), interleaved round by round with a bandwidth probe beside every round,
/// and where the time of one step goes (projections, norms, RoPE, attention, MLP, lm_head, sampling) in both.
/// </summary>
internal sealed class DecodeStepBench(TextWriter log)
{
    private static readonly string[] Phases = ["norms + residual", "q/k/v projections", "RoPE + cache write", "attention", "o_proj", "MLP (gate/up, SiLU, down)", "lm_head", "sampling (greedy)"];

    public void Run(Idefics3ForConditionalGeneration model, int context, int tokens, int rounds, bool includeLibtorch = true)
    {
        var work = new WorkModel(model.Config);
        int elementSize = model.Dtype == ScalarType.Float32 ? 4 : 2;
        double bytes = work.DecodeBytesPerToken(context + (tokens / 2), elementSize);
        (double layerBytes, double lmHeadBytes, double cacheBytes) = work.DecodeBytesByPart(context + (tokens / 2), elementSize);
        using var mode = inference_mode();
        using KvCache prefilled = model.CreateCache(1, context + tokens + 1);
        using KvCache cache = model.CreateCache(1, context + tokens + 1);
        using (NewDisposeScope())
        {
            var sw = Stopwatch.StartNew();
            long faults = MinorFaults();
            Tensor ids = torch.randint(0, 250, [1, context], generator: new Generator(1));
            model.Forward(model.EmbedTokens(ids), torch.arange(context).view(1, context), null, prefilled, lastPositionOnly: true);
            log.WriteLine(Invariant($"Prefilled {context} positions in {sw.Elapsed.TotalSeconds:F1} s ({MinorFaults() - faults} minor page faults); decode reads {bytes / 1e6:F0} MB per token"));
            log.WriteLine(Invariant($"  ({model.Config.Text.NumHiddenLayers} decoder layers {layerBytes / 1e6:F0} MB + lm_head {lmHeadBytes / 1e6:F0} MB + KV cache {cacheBytes / 1e6:F0} MB)"));
        }

        using FastDecoder one = FastDecoder.Create(model.Module, model.Config.Text, model.Dtype, 1);
        using FastDecoder two = FastDecoder.Create(model.Module, model.Config.Text, model.Dtype, Math.Max(2, Environment.ProcessorCount));
        var paths = new (string Name, FastDecoder? Fast)[] { ("libtorch", null), ("C# step, 1 thread", one), (Invariant($"C# step, {two.Threads} threads"), two) }
            .Where(p => includeLibtorch || p.Fast is not null).ToArray();
        var rates = paths.ToDictionary(p => p.Name, _ => new List<double>());
        log.WriteLine(Invariant($"{"round",-6} {"read GB/s",10} {string.Join(" ", paths.Select(p => Invariant($"{p.Name,22}")))}"));
        for (int round = 0; round < rounds; round++)
        {
            double bandwidth = MachineProbe.ReadBandwidthGBps(Environment.ProcessorCount, 256L << 20, 3);
            var line = new List<string>();
            foreach ((string name, FastDecoder? fast) in paths)
            {
                double rate = Decode(model, fast, prefilled, cache, context, tokens);
                rates[name].Add(rate);
                line.Add(Invariant($"{rate,10:F1} tok/s {rate * bytes / 1e9 / bandwidth * 100,3:F0}%"));
            }

            log.WriteLine(Invariant($"{round,-6} {bandwidth,10:F1} ") + string.Join(" ", line.Select(l => Invariant($"{l,22}"))));
        }

        log.WriteLine("(% = share of the bandwidth roofline of the same round)");
        foreach ((string name, List<double> r) in rates)
        {
            double[] sorted = [.. r.Order()];
            log.WriteLine(Invariant($"  {name}: median {sorted[sorted.Length / 2]:F1} tok/s, best {sorted[^1]:F1} tok/s"));
        }

        foreach ((string name, FastDecoder? fast) in paths)
        {
            long before = MinorFaults();
            Decode(model, fast, prefilled, cache, context, tokens);
            log.WriteLine(Invariant($"  {name}: {(MinorFaults() - before) / (double)tokens:F1} minor page faults per token"));
        }

        // Where one step's time goes.
        double[] torchPhases = includeLibtorch ? LibtorchBreakdown(model, prefilled, cache, context, tokens) : new double[Phases.Length];
        var profile = new DecodeProfile();
        two.Profile = profile;
        double[] fastSampling = new double[tokens];
        Decode(model, two, prefilled, cache, context, tokens, fastSampling);
        two.Profile = null;
        double[] fastPhases =
        [
            profile.MillisecondsPerStep(DecodePhase.Norm), profile.MillisecondsPerStep(DecodePhase.QkvProjection), profile.MillisecondsPerStep(DecodePhase.Rope),
            profile.MillisecondsPerStep(DecodePhase.Attention), profile.MillisecondsPerStep(DecodePhase.OutputProjection), profile.MillisecondsPerStep(DecodePhase.Mlp),
            profile.MillisecondsPerStep(DecodePhase.LmHead), fastSampling.Average(),
        ];
        log.WriteLine();
        log.WriteLine(Invariant($"One decode step at {context} context, ms (mean of {tokens} steps), all {model.Config.Text.NumHiddenLayers} layers:"));
        log.WriteLine(Invariant($"  {"phase",-28} {"libtorch",10} {"C# step",10} {"C# GB/s",8}"));
        DecodeStreams streams = work.Streams(context + (tokens / 2), elementSize);
        double[] phaseBytes = [0, streams.Qkv, 0, streams.Cache, streams.OutputProjection, streams.Mlp, streams.LmHead, 0];   // in the order of Phases
        for (int i = 0; i < Phases.Length; i++)
        {
            string rate = phaseBytes[i] > 0 ? Invariant($"{phaseBytes[i] / (fastPhases[i] / 1000) / 1e9,8:F1}") : Invariant($"{"-",8}");
            log.WriteLine(Invariant($"  {Phases[i],-28} {Torch(torchPhases[i]),10} {fastPhases[i],10:F3} {rate}"));
        }

        log.WriteLine(Invariant($"  {"total",-28} {Torch(torchPhases.Sum()),10} {fastPhases.Sum(),10:F3}"));
        cache.CopyPrefixFrom(prefilled, context);
        (double us, double gbps) = AttentionKernelBench.Run(model.Config.Text, cache, model.Dtype == ScalarType.BFloat16, 400);
        log.WriteLine(Invariant($"  {AttentionKernelBench.Describe(model.Config.Text, cache, model.Dtype == ScalarType.BFloat16)}: {us:F1} us per layer ({gbps:F1} GB/s of cache)"));
        string Torch(double ms) => includeLibtorch ? ms.ToString("F3", CultureInfo.InvariantCulture) : "-";
    }

    // Greedy decode of `tokens` tokens after the prefilled context; returns tokens/s over steps 2..N.
    private static double Decode(Idefics3ForConditionalGeneration model, FastDecoder? fast, KvCache prefilled, KvCache cache, int context, int tokens, double[]? samplingMs = null)
    {
        cache.CopyPrefixFrom(prefilled, context);
        using var sampler = new LogitsSampler(new GenerationOptions { Temperature = 0 }, []);
        int token = 1;
        var sw = new Stopwatch();
        for (int step = 0; step < tokens; step++)
        {
            if (step == 1)
            {
                sw.Start();
            }

            using var scope = NewDisposeScope();
            Tensor embeds = model.EmbedTokens(torch.tensor(new long[] { token }, [1, 1]));
            Tensor positions = torch.tensor(new long[] { cache.Length }, [1, 1]);
            Tensor logits = fast?.TryForward(embeds, positions, null, cache)
                ?? ForwardLibtorch(model, embeds, positions, cache);
            long t0 = Stopwatch.GetTimestamp();
            token = sampler.Sample(logits.reshape(-1)).TokenId;
            if (samplingMs is not null)
            {
                samplingMs[step] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        }

        return (tokens - 1) / sw.Elapsed.TotalSeconds;
    }

    private static Tensor ForwardLibtorch(Idefics3ForConditionalGeneration model, Tensor embeds, Tensor positions, KvCache cache)
    {
        bool saved = model.UseFastDecode;
        model.UseFastDecode = false;
        try
        {
            return model.Forward(embeds, positions, null, cache, lastPositionOnly: true);
        }
        finally
        {
            model.UseFastDecode = saved;
        }
    }

    // The libtorch step replicated op by op (TextModel / DecoderLayer / TextAttention / TextMlp for one position),
    // timing each group; the sum is within a few percent of the real step.
    private static double[] LibtorchBreakdown(Idefics3ForConditionalGeneration model, KvCache prefilled, KvCache cache, int context, int tokens)
    {
        cache.CopyPrefixFrom(prefilled, context);
        TextModel text = model.Module.model.text_model;
        var totals = new double[Phases.Length];
        using var sampler = new LogitsSampler(new GenerationOptions { Temperature = 0 }, []);
        int token = 1;
        long groups = model.Config.Text.NumAttentionHeads / model.Config.Text.NumKeyValueHeads;
        long heads = model.Config.Text.NumAttentionHeads, kvHeads = model.Config.Text.NumKeyValueHeads, hd = model.Config.Text.HeadDim;
        for (int step = 0; step < tokens; step++)
        {
            using var scope = NewDisposeScope();
            long t = Stopwatch.GetTimestamp();
            void Mark(int phase)
            {
                long now = Stopwatch.GetTimestamp();
                totals[phase] += (now - t) * 1000.0 / Stopwatch.Frequency;
                t = now;
            }

            Tensor h = model.EmbedTokens(torch.tensor(new long[] { token }, [1, 1]));
            Tensor positions = torch.tensor(new long[] { cache.Length }, [1, 1]);
            (Tensor cos, Tensor sin) = text.Rope.CosSin(positions, model.Dtype);
            Mark(2);
            for (int l = 0; l < text.layers.Count; l++)
            {
                DecoderLayer layer = text.layers[l];
                using var layerScope = NewDisposeScope();
                Tensor x = layer.input_layernorm.forward(h);
                Mark(0);
                Tensor q = layer.self_attn.q_proj.forward(x).view(1, 1, heads, hd).transpose(1, 2);
                Tensor k = layer.self_attn.k_proj.forward(x).view(1, 1, kvHeads, hd).transpose(1, 2);
                Tensor v = layer.self_attn.v_proj.forward(x).view(1, 1, kvHeads, hd).transpose(1, 2);
                Mark(1);
                q = text.Rope.Apply(q, cos, sin);
                k = text.Rope.Apply(k, cos, sin);
                (k, v) = cache.Update(l, k, v);
                Mark(2);
                Tensor qg = q.reshape(1, kvHeads, groups, hd);
                Tensor scores = qg.matmul(k.transpose(2, 3)).MulInPlace(1.0 / Math.Sqrt(hd));
                Tensor o = scores.softmax(-1, ScalarType.Float32).to_type(q.dtype).matmul(v).reshape(1, 1, heads * hd);
                Mark(3);
                Tensor a = layer.self_attn.o_proj.forward(o);
                Mark(4);
                h = h.Add(a).MoveToOuterDisposeScope();
                Tensor y = layer.post_attention_layernorm.forward(h);
                Mark(0);
                Tensor m = layer.mlp.forward(y);
                Mark(5);
                h = h.Add(m).MoveToOuterDisposeScope();
                Mark(0);
            }

            cache.Advance(1);
            Tensor normed = text.norm.forward(h);
            Mark(0);
            Tensor logits = model.Module.lm_head.forward(normed).to_type(ScalarType.Float32);
            Mark(6);
            token = sampler.Sample(logits.reshape(-1)).TokenId;
            Mark(7);
        }

        return [.. totals.Select(x => x / tokens)];
    }

    /// <summary>Minor page faults of this process so far (/proc/self/stat field 10, getrusage's ru_minflt); 0 where /proc is missing.</summary>
    public static long MinorFaults()
    {
        try
        {
            string stat = File.ReadAllText("/proc/self/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
