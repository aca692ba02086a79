using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Idefics3.Generation;
using Idefics3.Processing;
using Idefics3.StructuredOutput;
using Idefics3.Tokenization;

namespace Idefics3.Cli.Bench;

/// <summary>
/// The structured-output part of <c>idefics3 bench</c>: token-index build and schema compile times, the constraint's
/// cost per generated token (p50 / p99 / max) on both real vocabularies (SmolLM2 49k, Llama 3 128k) for an invoice
/// schema with nested line items, and the engine's decode speed with and without the constraint.
/// </summary>
internal sealed class StructuredOutputBench
{
    /// <summary>An invoice with nested line items, as <c>ChatResponseFormat.ForJsonSchema&lt;Invoice&gt;()</c> writes it.</summary>
    public const string InvoiceSchema = """
        {"$schema":"https://json-schema.org/draft/2020-12/schema","description":"An invoice read from a scan","type":"object",
         "properties":{"invoiceNumber":{"type":"string"},"vendor":{"type":"string"},"date":{"type":"string","format":"date"},
         "currency":{"type":"string","enum":["USD","EUR","CHF"]},"lines":{"type":"array","items":{"type":"object",
         "properties":{"description":{"type":"string"},"quantity":{"type":"integer","minimum":1,"maximum":1000},
         "unitPrice":{"type":"number","minimum":0}},"required":["description","quantity","unitPrice"]}},
         "total":{"type":"number","minimum":0},"notes":{"type":["string","null"]}},
         "required":["invoiceNumber","vendor","date","currency","lines","total","notes"]}
        """;

    private static readonly System.Buffers.SearchValues<byte> s_structural = System.Buffers.SearchValues.Create("\",}]:{["u8);

    private readonly TextWriter _log;
    private readonly Action<string, double[], string> _record;

    public StructuredOutputBench(TextWriter log, Action<string, double[], string> record)
    {
        _log = log;
        _record = record;
    }

    public async Task RunAsync(Idefics3Engine engine, int repeats, int decodeTokens, CancellationToken cancellationToken)
    {
        _log.WriteLine("Measuring structured output...");
        double[] compile = Repeat(repeats, () => Time(() => JsonSchemaCompiler.Compile(InvoiceSchema)));
        _record("structured output: invoice schema compile", compile, "ms");
        MeasureVocabulary("smolvlm", LoadTokenizer("smolvlm-tokenizer.json.gz"), [2, 49279], repeats);
        MeasureVocabulary("llama3", LoadTokenizer("llama3-tokenizer.json.gz"), [128001, 128008, 128009], repeats);
        await MeasureDecodeAsync(engine, decodeTokens, cancellationToken).ConfigureAwait(false);
    }

    private void MeasureVocabulary(string name, HuggingFaceTokenizer tokenizer, int[] ends, int repeats)
    {
        TokenIndex index = null!;
        double[] build = Repeat(repeats, () => Time(() => index = TokenIndex.Build(tokenizer, ends)));
        _record(Invariant($"structured output: {name} index build ({index.VocabularySize} ids)"), build, "ms");

        var matcher = new ByteMatcher(JsonSchemaCompiler.Compile(InvoiceSchema));
        var perToken = new List<double>();
        var perTokenCpu = new List<double>();
        var masks = new List<double>();
        var rng = new Random(1234);
        var logits = new float[index.VocabularySize];
        int documents = 4 * repeats;
        for (int doc = -1; doc < documents; doc++) // document -1 warms up (JIT) and is not counted
        {
            var constraint = new JsonTokenConstraint(matcher, index);
            for (int step = 0; step < 400 && !constraint.MustEnd; step++)
            {
                int remaining = 400 - step;
                bool structural = rng.NextDouble() < 0.35;
                for (int i = 0; i < logits.Length; i++)
                {
                    logits[i] = rng.NextSingle() + (structural && IsStructural(index.BytesOf(i)) ? 1f : 0f);
                }

                double cpuStart = ThreadCpu.Milliseconds();
                long start = Stopwatch.GetTimestamp();
                int pick = ArgMax(logits);
                if (!constraint.IsAllowed(pick, remaining))
                {
                    long maskStart = Stopwatch.GetTimestamp();
                    constraint.MaskLogits(logits, remaining);
                    if (doc >= 0)
                    {
                        masks.Add(Stopwatch.GetElapsedTime(maskStart).TotalMilliseconds);
                    }

                    pick = ArgMax(logits);
                }

                constraint.Accept(pick);
                if (doc >= 0)
                {
                    perToken.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    perTokenCpu.Add(ThreadCpu.Milliseconds() - cpuStart);
                }

                if (index.IsEnd(pick))
                {
                    break;
                }
            }
        }

        _log.WriteLine(Invariant($"  {name}: {perToken.Count} tokens, the full mask was needed for {masks.Count} ({100.0 * masks.Count / perToken.Count:F0} %)"));
        Percentiles($"structured output: {name} cost per token", perToken);
        if (ThreadCpu.IsAvailable)
        {
            // Wall time includes preemption on a loaded machine; the thread's CPU time does not. The kernel counts it
            // in scheduler ticks, so only the mean over all tokens is meaningful.
            _record($"structured output: {name} mean CPU time per token", [perTokenCpu.Sum() / perTokenCpu.Count], "ms");
        }

        Percentiles($"structured output: {name} full mask", masks);
    }

    private void Percentiles(string name, List<double> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        double[] sorted = [.. values.Order()];
        _record(name + " p50", [sorted[sorted.Length / 2]], "ms");
        _record(name + " p99", [sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))]], "ms");
        _record(name + " max", [sorted[^1]], "ms");
    }

    private async Task MeasureDecodeAsync(Idefics3Engine engine, int decodeTokens, CancellationToken cancellationToken)
    {
        // A long required string keeps the constrained answer going for at least decodeTokens tokens.
        string schema = "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\",\"minLength\":" + (decodeTokens * 4).ToString(CultureInfo.InvariantCulture) + "}}}";
        IReadOnlyList<PromptMessage> prompt = [PromptMessage.FromText("user", "Write a long text.")];
        var constrained = new GenerationOptions { MaxNewTokens = decodeTokens, ResponseFormat = JsonResponseFormat.ForSchema(schema) };
        var free = new GenerationOptions { MaxNewTokens = decodeTokens, MinNewTokens = decodeTokens };
        await engine.GenerateAsync(prompt, free, null, cancellationToken).ConfigureAwait(false); // warm-up
        GenerationResult withConstraint = await engine.GenerateAsync(prompt, constrained, null, cancellationToken).ConfigureAwait(false);
        GenerationResult without = await engine.GenerateAsync(prompt, free, null, cancellationToken).ConfigureAwait(false);
        _record(Invariant($"decode without constraint ({without.Usage.OutputTokens} tokens)"), [without.Timings.DecodeTokensPerSecond], "tok/s");
        _record(Invariant($"decode with JSON constraint ({withConstraint.Usage.OutputTokens} tokens)"), [withConstraint.Timings.DecodeTokensPerSecond], "tok/s");
    }

    private static HuggingFaceTokenizer LoadTokenizer(string resource)
    {
        using var gz = new GZipStream(BenchModelFolder.OpenResource(resource), CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        return HuggingFaceTokenizer.FromJson(reader.ReadToEnd());
    }

    private static bool IsStructural(byte[]? bytes) => bytes is not null && bytes.AsSpan().IndexOfAny(s_structural) >= 0;

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double[] Repeat(int n, Func<double> measure) => [.. Enumerable.Range(0, n).Select(_ => measure())];

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
