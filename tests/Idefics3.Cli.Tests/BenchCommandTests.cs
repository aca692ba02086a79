using System.Text.Json;

namespace Idefics3.Cli.Tests;

/// <summary>A smoke run of the benchmark on the tiny model: the mechanics only, never the timings.</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public async Task Bench_on_the_tiny_model_measures_every_step_and_writes_json()
    {
        // A hang guard, not a timing: the bench encodes and decodes 4000x3000 and 4000x4000 JPEGs, which takes well over
        // the default minute on a shared, loaded 2-core CI machine.
        CliResult result = await CliRunner.RunAsync(
            ["bench", "--model", CliRunner.TinyModel, "--dtype", "float32", "--repeat", "1", "--decode-tokens", "3", "--json", "-"],
            timeout: TimeSpan.FromMinutes(4));

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        JsonElement root = json.RootElement;
        Assert.True(root.GetProperty("read_bandwidth_gbps").GetDouble() > 0);
        Assert.True(root.GetProperty("gemm_bfloat16_gflops").GetDouble() > 0);
        string[] names = [.. root.GetProperty("measurements").EnumerateArray().Select(m => m.GetProperty("name").GetString()!)];
        foreach (string expected in new[] { "load", "vision encoder, 1 tile", "time to first token, 1 tile", "time to first token, 17 tiles", "decode at", "second turn, caches warm", "tokenizer encode", "peak RSS" })
        {
            Assert.Contains(names, n => n.StartsWith(expected, StringComparison.Ordinal));
        }

        foreach (string expected in new[] { "structured output: invoice schema compile", "structured output: smolvlm index build", "structured output: llama3 index build", "structured output: smolvlm cost per token p99", "structured output: llama3 cost per token p50", "decode with JSON constraint", "decode without constraint" })
        {
            Assert.Contains(names, n => n.StartsWith(expected, StringComparison.Ordinal));
        }

        Assert.Contains(names, n => n == "preprocess 4000x3000 JPEG -> 13 frames");
        Assert.Contains(names, n => n == "preprocess 4000x4000 JPEG -> 17 frames");
        Assert.Contains("measurement", result.Stderr, StringComparison.Ordinal); // the table goes to stderr with --json -
    }

    [Fact]
    public async Task Decode_step_and_page_fault_modes_run_on_the_tiny_model()
    {
        CliResult step = await CliRunner.RunAsync(
            ["bench", "--model", CliRunner.TinyModel, "--dtype", "float32", "--decode-step", "--skip-libtorch", "--context", "40", "--repeat", "1", "--decode-tokens", "3"],
            timeout: TimeSpan.FromMinutes(3));
        Assert.True(step.ExitCode == 0, step.ToString());
        Assert.Contains("decoder layers", step.Stdout, StringComparison.Ordinal);          // bytes per token by part
        Assert.Contains("C# GB/s", step.Stdout, StringComparison.Ordinal);
        Assert.Contains("attention kernel alone", step.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("libtorch:", step.Stdout, StringComparison.Ordinal);         // skipped

        CliResult faults = await CliRunner.RunAsync(
            ["bench", "--model", CliRunner.TinyModel, "--dtype", "float32", "--page-faults", "--context", "40", "--repeat", "1"],
            timeout: TimeSpan.FromMinutes(3));
        Assert.True(faults.ExitCode == 0, faults.ToString());
        foreach (string phase in new[] { "prefill 40 tokens, cache per request", "prefill 40 tokens, cache reused", "vision tower + connector, 1 tile", "vision tower + connector, 4 tiles" })
        {
            Assert.Contains(phase, faults.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Bench_refuses_layers_with_a_model_folder_and_out_of_range()
    {
        CliResult withModel = await CliRunner.RunAsync(["bench", "--model", CliRunner.TinyModel, "--layers", "2"]);
        CliResult tooMany = await CliRunner.RunAsync(["bench", "--shape", "smolvlm-256m", "--layers", "31", "--decode-step", "--work-dir", Path.Combine(Path.GetTempPath(), "idefics3-bench-refused")]);

        Assert.Equal(2, withModel.ExitCode);
        Assert.Contains("--layers applies to --shape only", withModel.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, tooMany.ExitCode);
        Assert.Contains("--layers must be between 1 and 30", tooMany.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "idefics3-bench-refused", "smolvlm-256m-31layers")));
    }

    [Fact]
    public async Task Bench_refuses_an_unknown_shape_and_both_shape_and_model()
    {
        CliResult unknown = await CliRunner.RunAsync(["bench", "--shape", "gpt-5"]);
        CliResult both = await CliRunner.RunAsync(["bench", "--shape", "smolvlm-256m", "--model", CliRunner.TinyModel]);

        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("either --shape or --model", both.Stderr, StringComparison.Ordinal);
    }
}
