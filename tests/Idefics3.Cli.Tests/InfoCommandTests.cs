using System.Buffers.Binary;
using System.Text.Json;

namespace Idefics3.Cli.Tests;

public sealed class InfoCommandTests
{
    [Fact]
    public async Task Info_on_a_local_folder_prints_configuration_parameters_and_files()
    {
        long expected = ElementsInHeader(Path.Combine(CliRunner.TinyModel, "model.safetensors"));

        CliResult result = await CliRunner.RunAsync(["info", "--model", CliRunner.TinyModel, "--dtype", "float32"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        string[] lines = result.Stdout.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("Parameters", StringComparison.Ordinal) && l.Contains(expected.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Type", StringComparison.Ordinal) && l.Contains("idefics3", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Text decoder", StringComparison.Ordinal) && l.Contains("hidden 64, 2 layers, 4 heads, 2 KV heads", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Image tokens", StringComparison.Ordinal) && l.Contains("4 per tile", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Context window", StringComparison.Ordinal) && l.Contains("131072", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("DType on disk", StringComparison.Ordinal) && l.Contains("F32 100%", StringComparison.Ordinal));
        // float32: 4 bytes per parameter; KV cache 2 x 2 layers x 2 KV heads x 16 x 4 bytes x 1000 tokens = 512 kB.
        Assert.Contains(lines, l => l.StartsWith("Memory", StringComparison.Ordinal) && l.Contains("in float32", StringComparison.Ordinal) && l.Contains("512.0 kB KV cache per 1k tokens", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("model.safetensors", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("tokenizer.json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Info_on_a_folder_without_config_fails_with_exit_1()
    {
        string empty = Path.Combine(Path.GetTempPath(), "idefics3-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(empty);
        try
        {
            CliResult result = await CliRunner.RunAsync(["info", "--model", empty]);

            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains("config.json", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    // The element count of every tensor in a safetensors header (8-byte little-endian length, then JSON), read here
    // without the library so the test does not check the CLI against the code it calls.
    private static long ElementsInHeader(string path)
    {
        using FileStream file = File.OpenRead(path);
        Span<byte> length = stackalloc byte[8];
        file.ReadExactly(length);
        byte[] json = new byte[BinaryPrimitives.ReadUInt64LittleEndian(length)];
        file.ReadExactly(json);
        using JsonDocument header = JsonDocument.Parse(json);
        return header.RootElement.EnumerateObject()
            .Where(p => p.Name != "__metadata__")
            .Sum(p => p.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, d) => a * d.GetInt64()));
    }
}
