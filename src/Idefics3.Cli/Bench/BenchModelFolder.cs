using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Idefics3.Configuration;
using Idefics3.Diagnostics;

namespace Idefics3.Cli.Bench;

/// <summary>
/// Builds, once, a model folder with the exact shapes of a real checkpoint and random bfloat16 weights, so speed and
/// memory can be measured without downloading it. The real config is used unchanged except <c>image_token_id</c>,
/// which points at the small byte-level tokenizer shipped with the benchmark (token ids are below every real vocabulary),
/// and, when asked, <c>text_config.num_hidden_layers</c>: a truncated-depth model keeps every per-layer shape, the
/// embeddings, the lm_head and the vision tower, so a large shape (Idefics3-8B: 17 GB) can be measured in less memory
/// and disk (the share of the bandwidth roofline per decoded token does not depend on the layer count).
/// </summary>
internal static class BenchModelFolder
{
    /// <summary>The shapes the benchmark knows, by name.</summary>
    public static readonly IReadOnlyDictionary<string, string> Shapes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["smolvlm-256m"] = "smolvlm-256m-instruct.json",
        ["smolvlm-500m"] = "smolvlm-500m-instruct.json",
        ["smolvlm-2.2b"] = "smolvlm-instruct-2.2b.json",
        ["idefics3-8b"] = "idefics3-8b-llama3.json",
    };

    private const int TokenizerImageTokenId = 259;
    private const int TokenizerEndOfUtterance = 260;

    /// <summary>Returns the folder of a shape's random-weight model, writing it first if needed.</summary>
    /// <param name="shape">A key of <see cref="Shapes"/>.</param>
    /// <param name="root">The parent folder (default: idefics3-bench in the temp folder).</param>
    /// <param name="log">Progress output.</param>
    /// <param name="layers">Decoder layers to keep (1 to the shape's count; null: all).</param>
    /// <returns>The model folder.</returns>
    public static string Ensure(string shape, string? root, TextWriter log, int? layers = null)
    {
        if (!Shapes.TryGetValue(shape, out string? resource))
        {
            throw new UsageException($"Unknown shape '{shape}'. Use one of: {string.Join(", ", Shapes.Keys)}.");
        }

        var config = JsonNode.Parse(ReadResource(resource))!.AsObject();
        JsonObject text = config["text_config"]!.AsObject();
        int fullDepth = text["num_hidden_layers"]!.GetValue<int>();
        if (layers is int n && (n < 1 || n > fullDepth))
        {
            throw new UsageException($"--layers must be between 1 and {fullDepth} for {shape}.");
        }

        string folderName = shape.ToLowerInvariant() + (layers is int kept && kept != fullDepth ? $"-{kept.ToString(CultureInfo.InvariantCulture)}layers" : string.Empty);
        string folder = Path.Combine(root ?? Path.Combine(Path.GetTempPath(), "idefics3-bench"), folderName);
        string marker = Path.Combine(folder, ".complete");
        if (File.Exists(marker))
        {
            return folder;
        }

        Directory.CreateDirectory(folder);
        config["image_token_id"] = TokenizerImageTokenId;
        text["num_hidden_layers"] = layers ?? fullDepth;
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Idefics3Config parsed = Idefics3Config.Load(Path.Combine(folder, "config.json"));
        int tile = parsed.Vision.ImageSize;
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), $$"""{"eos_token_id": {{TokenizerEndOfUtterance}}}""");
        File.WriteAllText(Path.Combine(folder, "processor_config.json"), $$"""{"image_seq_len": {{parsed.ImageSeqLen}}, "processor_class": "Idefics3Processor"}""");
        var preprocessor = new JsonObject
        {
            ["do_convert_rgb"] = true, ["do_image_splitting"] = true, ["do_normalize"] = true, ["do_pad"] = true,
            ["do_rescale"] = true, ["do_resize"] = true, ["image_mean"] = new JsonArray(0.5, 0.5, 0.5),
            ["image_std"] = new JsonArray(0.5, 0.5, 0.5), ["image_processor_type"] = "Idefics3ImageProcessor",
            ["max_image_size"] = new JsonObject { ["longest_edge"] = tile }, ["resample"] = 1,
            ["rescale_factor"] = 1.0 / 255, ["size"] = new JsonObject { ["longest_edge"] = 4 * tile },
        };
        File.WriteAllText(Path.Combine(folder, "preprocessor_config.json"), preprocessor.ToJsonString());
        foreach (string name in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.json" })
        {
            File.WriteAllText(Path.Combine(folder, name), ReadResource("tokenizer." + name));
        }

        log.WriteLine($"Writing random bfloat16 weights with the shapes of {shape}{(layers is int d && d != fullDepth ? $" ({d} of {fullDepth} decoder layers)" : string.Empty)} to {folder} (once)...");
        RandomWeights.WriteSafetensors(Path.Combine(folder, "model.safetensors"), parsed);
        File.WriteAllText(marker, DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        return folder;
    }

    public static string ReadResource(string name)
    {
        using Stream stream = OpenResource(name);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public static Stream OpenResource(string name) =>
        Assembly.GetExecutingAssembly().GetManifestResourceStream("Idefics3.Cli.Bench.Shapes." + name)
        ?? throw new InvalidOperationException($"Missing benchmark resource '{name}'.");
}
