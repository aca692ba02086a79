using System.Text.Json;

namespace Idefics3.Configuration;

/// <summary>The processor settings of a checkpoint (<c>processor_config.json</c>).</summary>
internal sealed record ProcessorConfig
{
    /// <summary>The file name this record is read from.</summary>
    public const string FileName = "processor_config.json";

    /// <summary>Gets the number of <c>&lt;image&gt;</c> tokens per frame (169 for Idefics3-8B; Hugging Face's default when absent).</summary>
    public int ImageSeqLen { get; init; } = 169;

    /// <summary>Gets the <c>processor_class</c> string, when present.</summary>
    public string? ProcessorClass { get; init; }

    /// <summary>Reads <c>processor_config.json</c> from a model folder; defaults when the file is absent.</summary>
    /// <param name="directory">The model folder.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ConfigurationException">The file is malformed.</exception>
    public static ProcessorConfig Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string path = Path.Combine(directory, FileName);
        return File.Exists(path) ? Parse(ModelFile.ReadText(path)) : new ProcessorConfig();
    }

    /// <summary>Parses the JSON text of <c>processor_config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ConfigurationException">The text is malformed or <c>image_seq_len</c> is not a positive integer.</exception>
    public static ProcessorConfig Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            int seq = 169;
            if (root.TryGetProperty("image_seq_len", out var s) && s.ValueKind != JsonValueKind.Null)
            {
                if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt32(out seq) || seq <= 0)
                {
                    throw new ConfigurationException(FileName, "image_seq_len", $"expected a positive integer, found {s.GetRawText()}.");
                }
            }

            return new ProcessorConfig
            {
                ImageSeqLen = seq,
                ProcessorClass = root.TryGetProperty("processor_class", out var pc) && pc.ValueKind == JsonValueKind.String ? pc.GetString() : null,
            };
        }
        catch (JsonException ex)
        {
            throw new ConfigurationException($"{FileName}: not valid JSON: {ex.Message}", ex);
        }
    }
}
