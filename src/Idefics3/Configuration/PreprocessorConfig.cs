using System.Text.Json;

namespace Idefics3.Configuration;

/// <summary>
/// The image-processor settings of a checkpoint (<c>preprocessor_config.json</c>, <c>Idefics3ImageProcessor</c> /
/// <c>SmolVLMImageProcessor</c>). Missing keys take the Hugging Face class defaults.
/// </summary>
internal sealed record PreprocessorConfig
{
    /// <summary>The file name this record is read from.</summary>
    public const string FileName = "preprocessor_config.json";

    /// <summary>Gets a value indicating whether images are converted to RGB.</summary>
    public bool DoConvertRgb { get; init; } = true;

    /// <summary>Gets a value indicating whether the longest-edge resize runs.</summary>
    public bool DoResize { get; init; } = true;

    /// <summary>Gets the target longest edge of the first resize (<c>size.longest_edge</c>; 1456 for Idefics3-8B).</summary>
    public int LongestEdge { get; init; } = 4 * 364;

    /// <summary>Gets the tile edge (<c>max_image_size.longest_edge</c>; 364 for Idefics3-8B).</summary>
    public int TileSize { get; init; } = 364;

    /// <summary>Gets the PIL resample filter id (1 = LANCZOS, the only one implemented).</summary>
    public int Resample { get; init; } = 1;

    /// <summary>Gets a value indicating whether pixels are rescaled by <see cref="RescaleFactor"/>.</summary>
    public bool DoRescale { get; init; } = true;

    /// <summary>Gets the rescale factor (1/255).</summary>
    public double RescaleFactor { get; init; } = 1.0 / 255.0;

    /// <summary>Gets a value indicating whether pixels are normalised with <see cref="ImageMean"/> and <see cref="ImageStd"/>.</summary>
    public bool DoNormalize { get; init; } = true;

    /// <summary>Gets the per-channel mean.</summary>
    public IReadOnlyList<float> ImageMean { get; init; } = [0.5f, 0.5f, 0.5f];

    /// <summary>Gets the per-channel standard deviation.</summary>
    public IReadOnlyList<float> ImageStd { get; init; } = [0.5f, 0.5f, 0.5f];

    /// <summary>Gets a value indicating whether frames are padded to a common size (always true in practice).</summary>
    public bool DoPad { get; init; } = true;

    /// <summary>Gets a value indicating whether large images are split into tiles plus a global frame.</summary>
    public bool DoImageSplitting { get; init; } = true;

    /// <summary>Gets the <c>image_processor_type</c> string, when present.</summary>
    public string? ImageProcessorType { get; init; }

    /// <summary>Reads <c>preprocessor_config.json</c> from a model folder; defaults when the file is absent.</summary>
    /// <param name="directory">The model folder.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ConfigurationException">The file is malformed or holds an unsupported value.</exception>
    public static PreprocessorConfig Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string path = Path.Combine(directory, FileName);
        return File.Exists(path) ? Parse(ModelFile.ReadText(path)) : new PreprocessorConfig();
    }

    /// <summary>Parses the JSON text of <c>preprocessor_config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ConfigurationException">The text is malformed or holds an unsupported value.</exception>
    public static PreprocessorConfig Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ConfigurationException($"{FileName}: not valid JSON: {ex.Message}", ex);
        }

        using (doc)
        {
            var root = doc.RootElement;
            var defaults = new PreprocessorConfig();
            var config = new PreprocessorConfig
            {
                DoConvertRgb = Bool(root, "do_convert_rgb", defaults.DoConvertRgb),
                DoResize = Bool(root, "do_resize", defaults.DoResize),
                LongestEdge = Edge(root, "size", defaults.LongestEdge),
                TileSize = Edge(root, "max_image_size", defaults.TileSize),
                Resample = Int(root, "resample", defaults.Resample),
                DoRescale = Bool(root, "do_rescale", defaults.DoRescale),
                RescaleFactor = Double(root, "rescale_factor", defaults.RescaleFactor),
                DoNormalize = Bool(root, "do_normalize", defaults.DoNormalize),
                ImageMean = Floats(root, "image_mean", defaults.ImageMean),
                ImageStd = Floats(root, "image_std", defaults.ImageStd),
                DoPad = Bool(root, "do_pad", defaults.DoPad),
                DoImageSplitting = Bool(root, "do_image_splitting", defaults.DoImageSplitting),
                ImageProcessorType = root.TryGetProperty("image_processor_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null,
            };
            if (config.Resample != 1)
            {
                throw new ConfigurationException(FileName, "resample", $"filter {config.Resample} is not supported; only 1 (PIL LANCZOS) is implemented.");
            }

            if (config.LongestEdge <= 0 || config.TileSize <= 0)
            {
                throw new ConfigurationException(FileName, config.LongestEdge <= 0 ? "size.longest_edge" : "max_image_size.longest_edge", "must be positive.");
            }

            if (config.ImageStd.Any(s => s == 0))
            {
                throw new ConfigurationException(FileName, "image_std", "must not contain 0.");
            }

            return config;
        }
    }

    private static bool Bool(JsonElement root, string name, bool fallback)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ConfigurationException(FileName, name, $"expected true or false, found {v.ValueKind}."),
        };
    }

    private static int Int(JsonElement root, string name, int fallback)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw new ConfigurationException(FileName, name, $"expected an integer, found {v.GetRawText()}.");
    }

    private static double Double(JsonElement root, string name, double fallback)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw new ConfigurationException(FileName, name, $"expected a number, found {v.GetRawText()}.");
    }

    private static int Edge(JsonElement root, string name, int fallback)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        if (v.ValueKind != JsonValueKind.Object || !v.TryGetProperty("longest_edge", out var edge))
        {
            throw new ConfigurationException(FileName, name + ".longest_edge", "expected an object with 'longest_edge'.");
        }

        return edge.ValueKind == JsonValueKind.Number && edge.TryGetInt32(out int i) ? i : throw new ConfigurationException(FileName, name + ".longest_edge", $"expected an integer, found {edge.GetRawText()}.");
    }

    private static float[] Floats(JsonElement root, string name, IReadOnlyList<float> fallback)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return fallback.ToArray();
        }

        if (v.ValueKind == JsonValueKind.Number)
        {
            float f = v.GetSingle();
            return [f, f, f];
        }

        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 3 || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number))
        {
            throw new ConfigurationException(FileName, name, "expected 3 numbers.");
        }

        return v.EnumerateArray().Select(e => e.GetSingle()).ToArray();
    }
}
