using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Serialization;
using Idefics3.Diagnostics;
using Idefics3.Generation;
using Idefics3.Processing;
using Idefics3.Tokenization;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Cli.Bench;

/// <summary>Settings of one benchmark run.</summary>
internal sealed record BenchSettings(string? Shape, string? ModelPath, ModelDType DType, int Repeats, int DecodeTokens, bool SkipLargeImage, string? WorkDirectory, int? Layers = null, bool WeightsInMemory = false)
{
    /// <summary>Gets the name of what is measured: the shape (with its kept layer count) or the model folder.</summary>
    public string Label => ModelPath ?? (Layers is int n ? string.Create(CultureInfo.InvariantCulture, $"{Shape} ({n} decoder layers)") : Shape!);
}

/// <summary>One measured quantity, with the machine's state before and after it.</summary>
internal sealed record BenchMeasurement(
    string Name, double Min, double Median, string Unit, double? Ratio, string? RatioOf, string State,
    [property: JsonPropertyName("rss_gb")] double RssGB,
    [property: JsonPropertyName("peak_rss_gb")] double PeakRssGB);

/// <summary>What a run found: the machine's roofline and every measurement.</summary>
internal sealed record BenchReport(
    string Model,
    [property: JsonPropertyName("dtype")] string DType,
    long Parameters,
    [property: JsonPropertyName("read_bandwidth_gbps")] double ReadBandwidthGBps,
    [property: JsonPropertyName("gemm_float32_gflops")] double GemmFloat32Gflops,
    [property: JsonPropertyName("gemm_bfloat16_gflops")] double GemmBFloat16Gflops,
    double SmallGemvMs,
    IReadOnlyList<BenchMeasurement> Measurements);

/// <summary>
/// Measures a model against this machine's own roofline in one process: the machine first (read bandwidth, GEMM
/// peaks, a small-GEMV probe of the VM's fast or slow state), then load time, preprocessing, the vision tower, time to
/// first token for 1 and 17 tiles, text prefill, decode, a warm second turn, the tokenizer and peak memory.
/// </summary>
internal sealed class BenchRunner
{
    private readonly TextWriter _log;
    private readonly List<BenchMeasurement> _results = [];

    public BenchRunner(TextWriter log) => _log = log;

    public async Task<BenchReport> RunAsync(BenchSettings s, CancellationToken cancellationToken)
    {
        Runtime.TorchRuntime.EnsureLoaded();
        _log.WriteLine("Measuring the machine...");
        double bandwidth = MachineProbe.ReadBandwidthGBps(Environment.ProcessorCount);
        double gemm32 = MachineProbe.GemmGflops(ScalarType.Float32, 2048, 2048, 2048, 3);
        double gemm16 = MachineProbe.GemmGflops(ScalarType.BFloat16, 2048, 2048, 2048, 3);
        double gemv = MachineProbe.SmallGemvMedianMs();
        _log.WriteLine(Invariant($"  read bandwidth {bandwidth:F1} GB/s, GEMM float32 {gemm32:F0} GFLOP/s, bfloat16 {gemm16:F0} GFLOP/s, small GEMV {gemv:F2} ms ({StateOf(gemv)})"));

        string folder = s.ModelPath ?? BenchModelFolder.Ensure(s.Shape!, s.WorkDirectory, _log, s.Layers);
        var sw = Stopwatch.StartNew();
        Idefics3Engine engine = await Idefics3Engine.LoadAsync(folder, new Idefics3EngineOptions { DType = s.DType, LoadWeightsIntoMemory = s.WeightsInMemory }, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var owner = engine;
        Record("load", [sw.Elapsed.TotalMilliseconds], "ms", null, null);

        var work = new WorkModel(engine.Config);
        int elementSize = engine.DType == ScalarType.Float32 ? 4 : 2;
        double peak = engine.DType == ScalarType.Float32 ? gemm32 : gemm16;
        long parameters = RandomWeights.CountParameters(engine.Config);
        _log.WriteLine(Invariant($"Model {s.Label}: {parameters / 1e6:F0}M parameters, {engine.DType} on {engine.DeviceName}"));

        // A 4:3 photo gives 3x4 tiles + the global frame (13 frames); a square image gives the maximum, 4x4 + 1 = 17.
        IReadOnlyList<PromptMessage> photo = [PromptMessage.Create("user", new PromptImage(MakeJpeg(4000, 3000), "image/jpeg"), new PromptText("What is in this image?"))];
        IReadOnlyList<PromptMessage> imageQuestion = [PromptMessage.Create("user", new PromptImage(MakeJpeg(4000, 4000), "image/jpeg"), new PromptText("What is in this image?"))];

        // Preprocessing: decode, two LANCZOS resizes, split, normalise.
        int photoFrames = 0;
        double[] pre = Repeat(s.Repeats, () => Time(() => photoFrames = engine.Processor.Process(photo).Images[0].FrameCount));
        Record(Invariant($"preprocess 4000x3000 JPEG -> {photoFrames} frames"), pre, "ms", null, null);
        int squareFrames = 0;
        double[] preSquare = Repeat(s.Repeats, () => Time(() => squareFrames = engine.Processor.Process(imageQuestion).Images[0].FrameCount));
        Record(Invariant($"preprocess 4000x4000 JPEG -> {squareFrames} frames"), preSquare, "ms", null, null);

        // Vision tower + connector on one tile.
        double[] vision = VisionEncoderProbe.Measure(engine, s.Repeats, cancellationToken);

        Record("vision encoder, 1 tile", vision, "ms", Percent(work.VisionFlopsPerTile, vision.Min(), peak), "GEMM peak");

        // Time to first token, one tile (no splitting), cold caches.
        var oneToken = new GenerationOptions { MaxNewTokens = 1 };
        double[] ttft1 = await RepeatAsync(s.Repeats, async () =>
        {
            engine.ClearCaches();
            GenerationResult r = await engine.GenerateAsync(imageQuestion, oneToken, new ProcessorOptions { DoImageSplitting = false }, cancellationToken).ConfigureAwait(false);
            return r.Timings.TimeToFirstTokenMilliseconds;
        }).ConfigureAwait(false);
        Record("time to first token, 1 tile", ttft1, "ms", null, null);

        // Text prefill of about 512 tokens.
        IReadOnlyList<PromptMessage> longText = [PromptMessage.FromText("user", LongText(engine.Tokenizer, 500))];
        int prefillTokens = 0;
        double[] prefill = await RepeatAsync(s.Repeats, async () =>
        {
            engine.ClearCaches();
            GenerationResult r = await engine.GenerateAsync(longText, oneToken, null, cancellationToken).ConfigureAwait(false);
            prefillTokens = r.Timings.PrefillTokens;
            return r.Timings.PrefillMilliseconds;
        }).ConfigureAwait(false);
        Record(Invariant($"text prefill, {prefillTokens} tokens"), prefill, "ms", Percent(work.PrefillFlops(prefillTokens), prefill.Min(), peak), "GEMM peak");
        Record("text prefill rate", [.. prefill.Select(ms => prefillTokens / ms * 1000)], "tok/s", null, null, higherIsBetter: true);

        if (!s.SkipLargeImage)
        {
            var decodeOptions = new GenerationOptions { MaxNewTokens = s.DecodeTokens, MinNewTokens = s.DecodeTokens };
            GenerationResult? cold = null;
            double[] ttft17 = await RepeatAsync(Math.Max(1, s.Repeats / 2), async () =>
            {
                engine.ClearCaches();
                cold = await engine.GenerateAsync(imageQuestion, decodeOptions, null, cancellationToken).ConfigureAwait(false);
                return cold.Timings.TimeToFirstTokenMilliseconds;
            }).ConfigureAwait(false);
            int promptTokens = cold!.Usage.InputTokens;
            double flops = (17 * work.VisionFlopsPerTile) + work.PrefillFlops(promptTokens);
            double estimateMs = flops / (peak * 1e9) * 1000;
            Record(Invariant($"time to first token, 17 tiles ({promptTokens} tokens)"), ttft17, "ms", ttft17.Min() / estimateMs, "x FLOP estimate");
            Record("preprocessing share of that", [preSquare.Min() / ttft17.Min() * 100], "%", null, null);

            double decodeRate = cold.Timings.DecodeTokensPerSecond;
            double roofline = bandwidth * 1e9 / work.DecodeBytesPerToken(promptTokens + (s.DecodeTokens / 2), elementSize);
            Record(Invariant($"decode at {promptTokens} context (tokens 2..{s.DecodeTokens})"), [decodeRate], "tok/s", decodeRate / roofline * 100, "BW roofline", higherIsBetter: true);

            IReadOnlyList<PromptMessage> followUp =
            [
                .. imageQuestion,
                PromptMessage.FromText("assistant", cold.Text),
                PromptMessage.FromText("user", "And what colours does it have?"),
            ];
            GenerationResult warm = await engine.GenerateAsync(followUp, oneToken, null, cancellationToken).ConfigureAwait(false);
            Record(Invariant($"second turn, caches warm ({warm.Usage.CachedTokens} of {warm.Usage.InputTokens} tokens reused)"),
                [warm.Timings.TimeToFirstTokenMilliseconds], "ms", ttft17.Min() / warm.Timings.TimeToFirstTokenMilliseconds, "x faster than cold");
        }

        // Tokenizer speed on the real SmolVLM and Llama 3 vocabularies, cold (unseen text) and warm.
        foreach (TokenizerThroughput.Rate rate in TokenizerThroughput.Measure(s.Repeats))
        {
            Record(rate.Name, rate.TokensPerSecond, "tok/s", null, null, higherIsBetter: true);
        }

        await new StructuredOutputBench(_log, (name, values, unit) => Record(name, values, unit, null, null)).RunAsync(engine, s.Repeats, s.DecodeTokens, cancellationToken).ConfigureAwait(false);

        double rssGb = ProcessMemory.PeakResidentBytes / 1e9;
        long weightBytes = Directory.EnumerateFiles(folder, "*.safetensors").Sum(f => new FileInfo(f).Length);
        double budget = (weightBytes / 1e9 * (elementSize == 4 ? 2 : 1)) + (work.KvBytesPerToken(elementSize) * 2048 / 1e9) + 1.5;
        Record("peak RSS", [rssGb], "GB", rssGb / budget * 100, "of weights+KV+1.5 GB", higherIsBetter: false);

        return new BenchReport(s.Label, engine.DType.ToString(), parameters, bandwidth, gemm32, gemm16, gemv, _results);
    }

    /// <summary>Runs <see cref="DecodeBenchmarks.RunDecodeStep"/> on the model of the settings (rounds: the repeat count).</summary>
    public static async Task RunDecodeStepAsync(BenchSettings s, int context, bool includeLibtorch, TextWriter log, CancellationToken cancellationToken)
    {
        Runtime.TorchRuntime.EnsureLoaded();
        string folder = s.ModelPath ?? BenchModelFolder.Ensure(s.Shape!, s.WorkDirectory, log, s.Layers);
        Idefics3Engine engine = await Idefics3Engine.LoadAsync(folder, new Idefics3EngineOptions { DType = s.DType, LoadWeightsIntoMemory = s.WeightsInMemory }, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var owner = engine;
        log.WriteLine(Invariant($"Model {s.Label}: {engine.DType}, {Environment.ProcessorCount} CPUs"));
        DecodeBenchmarks.RunDecodeStep(engine, context, s.DecodeTokens, s.Repeats, includeLibtorch, log);
    }

    /// <summary>Runs <see cref="DecodeBenchmarks.RunPageFaults"/> on the model of the settings.</summary>
    public static async Task RunPageFaultsAsync(BenchSettings s, int context, TextWriter log, CancellationToken cancellationToken)
    {
        Runtime.TorchRuntime.EnsureLoaded();
        string folder = s.ModelPath ?? BenchModelFolder.Ensure(s.Shape!, s.WorkDirectory, log, s.Layers);
        Idefics3Engine engine = await Idefics3Engine.LoadAsync(folder, new Idefics3EngineOptions { DType = s.DType, LoadWeightsIntoMemory = s.WeightsInMemory }, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var owner = engine;
        log.WriteLine(Invariant($"Model {s.Label}: {engine.DType}, {Environment.ProcessorCount} CPUs"));
        DecodeBenchmarks.RunPageFaults(engine, context, s.Repeats, log);
    }

    public static void PrintTable(BenchReport report, TextWriter output)
    {
        output.WriteLine(Invariant($"Machine: read {report.ReadBandwidthGBps:F1} GB/s; GEMM float32 {report.GemmFloat32Gflops:F0}, bfloat16 {report.GemmBFloat16Gflops:F0} GFLOP/s; small GEMV {report.SmallGemvMs:F2} ms"));
        output.WriteLine(Invariant($"Model: {report.Model} ({report.Parameters / 1e6:F0}M parameters, {report.DType})"));
        output.WriteLine(Invariant($"{"measurement",-52} {"min",10} {"median",10} {"unit",-6} {"ratio",8}  {"of",-22} {"state",-5} {"RSS GB",7} {"peak",6}"));
        foreach (BenchMeasurement m in report.Measurements)
        {
            string ratio = m.Ratio is double r ? r.ToString(r < 10 ? "F2" : "F0", CultureInfo.InvariantCulture) : "-";
            output.WriteLine(Invariant($"{m.Name,-52} {Format(m.Min),10} {Format(m.Median),10} {m.Unit,-6} {ratio,8}  {m.RatioOf ?? string.Empty,-22} {m.State,-5} {m.RssGB,7:F2} {m.PeakRssGB,6:F2}"));
        }
    }

    private void Record(string name, double[] values, string unit, double? ratio, string? ratioOf, bool higherIsBetter = false)
    {
        double gemv = MachineProbe.SmallGemvMedianMs(15);
        double[] sorted = [.. values.Order()];
        double best = higherIsBetter ? sorted[^1] : sorted[0];
        var m = new BenchMeasurement(name, best, sorted[sorted.Length / 2], unit, ratio, ratioOf, StateOf(gemv), ProcessMemory.CurrentResidentBytes / 1e9, ProcessMemory.PeakResidentBytes / 1e9);
        _results.Add(m);
        _log.WriteLine(Invariant($"  {name}: {Format(m.Min)} {unit} (median {Format(m.Median)}){(ratio is double r ? Invariant($", {r:F2} {ratioOf}") : string.Empty)} [{m.State}]"));
    }

    private static string StateOf(double smallGemvMs) => smallGemvMs < 2 ? "fast" : "slow";

    private static double Percent(double flops, double milliseconds, double peakGflops) => flops / (milliseconds / 1000) / (peakGflops * 1e9) * 100;

    private static double Time(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double[] Repeat(int n, Func<double> measure) => [.. Enumerable.Range(0, n).Select(_ => measure())];

    private static async Task<double[]> RepeatAsync(int n, Func<Task<double>> measure)
    {
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = await measure().ConfigureAwait(false);
        }

        return values;
    }

    private static byte[] MakeJpeg(int width, int height)
    {
        var rgba = new byte[width * height * 4];
        for (int y = 0, o = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++, o += 4)
            {
                (rgba[o], rgba[o + 1], rgba[o + 2], rgba[o + 3]) = ((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)((x ^ y) & 0xFF), 255);
            }
        }

        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);

        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 75);
        return data.ToArray();
    }

    private static string LongText(HuggingFaceTokenizer tokenizer, int tokens)
    {
        var text = new StringBuilder();
        string corpus = Corpus(tokens * 8);
        foreach (string word in corpus.Split(' '))
        {
            text.Append(word).Append(' ');
            if (tokenizer.CountTokens(text.ToString()) >= tokens)
            {
                break;
            }
        }

        return text.ToString();
    }

    private static string Corpus(int characters)
    {
        const string Paragraph =
            "The quarterly report shows revenue of 18.6 million euros in the fourth quarter, up from 9.8 million in the third. " +
            "Operating costs fell by 4% while the number of customers grew to 12,450. The board approved a dividend of 0.35 per share. ";
        var text = new StringBuilder(characters + Paragraph.Length);
        int i = 0;
        while (text.Length < characters)
        {
            text.Append(Paragraph.Replace("quarter", i % 2 == 0 ? "quarter" : "period", StringComparison.Ordinal)).Append(i++).Append(". ");
        }

        return text.ToString();
    }

    private static string Format(double value) =>
        value.ToString(value >= 100 ? "F0" : value >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
