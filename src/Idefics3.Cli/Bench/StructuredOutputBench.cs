using System.Globalization;
using System.IO.Compression;
using Idefics3.Diagnostics;
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
        double[] compile = JsonConstraintProbe.MeasureCompile(InvoiceSchema, repeats);
        _record("structured output: invoice schema compile", compile, "ms");
        MeasureVocabulary("smolvlm", LoadTokenizer("smolvlm-tokenizer.json.gz"), [2, 49279], repeats);
        MeasureVocabulary("llama3", LoadTokenizer("llama3-tokenizer.json.gz"), [128001, 128008, 128009], repeats);
        await MeasureDecodeAsync(engine, decodeTokens, cancellationToken).ConfigureAwait(false);
    }

    private void MeasureVocabulary(string name, HuggingFaceTokenizer tokenizer, int[] ends, int repeats)
    {
        JsonConstraintCost cost = JsonConstraintProbe.Measure(tokenizer, ends, InvoiceSchema, repeats);
        _record(Invariant($"structured output: {name} index build ({cost.VocabularySize} ids)"), [.. cost.IndexBuildMilliseconds], "ms");
        int tokens = cost.TokenMilliseconds.Count, masks = cost.FullMaskMilliseconds.Count;
        _log.WriteLine(Invariant($"  {name}: {tokens} tokens, the full mask was needed for {masks} ({100.0 * masks / tokens:F0} %)"));
        Percentiles($"structured output: {name} cost per token", cost.TokenMilliseconds);
        if (cost.TokenCpuMilliseconds is { } cpu)
        {
            _record($"structured output: {name} mean CPU time per token", [cpu.Average()], "ms");
        }

        Percentiles($"structured output: {name} full mask", cost.FullMaskMilliseconds);
    }

    private void Percentiles(string name, IReadOnlyList<double> values)
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

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
