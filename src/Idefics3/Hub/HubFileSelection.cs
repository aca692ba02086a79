using System.Collections.Frozen;
using System.Text.Json;

namespace Idefics3.Hub;

/// <summary>Which repository files an Idefics3 / SmolVLM model needs.</summary>
internal static class HubFileSelection
{
    public const string ConfigFile = "config.json";
    public const string TokenizerFile = "tokenizer.json";
    public const string WeightsFile = "model.safetensors";
    public const string WeightsIndexFile = "model.safetensors.index.json";

    /// <summary>Files a cached snapshot must have (besides the weights) to be used without asking the hub.</summary>
    public static readonly IReadOnlyList<string> CoreFiles = [ConfigFile, TokenizerFile];

    private static readonly FrozenSet<string> _smallFiles = new[]
    {
        ConfigFile,
        "generation_config.json",
        "preprocessor_config.json",
        "processor_config.json",
        "chat_template.json",
        "chat_template.jinja",
        TokenizerFile,
        "tokenizer_config.json",
        "special_tokens_map.json",
        "vocab.json",
        "merges.txt",
        "added_tokens.json",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The configuration, processor and tokenizer files among the repository's files.</summary>
    public static IReadOnlyList<string> SelectSmallFiles(IEnumerable<string> repoFiles) =>
        repoFiles.Where(_smallFiles.Contains).Order(StringComparer.Ordinal).ToList();

    /// <summary>Root-level *.safetensors files (not in subfolders such as onnx/).</summary>
    public static IReadOnlyList<string> RootSafetensors(IEnumerable<string> repoFiles) =>
        repoFiles.Where(f => !f.Contains('/', StringComparison.Ordinal) && f.EndsWith(".safetensors", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The distinct shard files named by <c>weight_map</c> in model.safetensors.index.json.</summary>
    /// <exception cref="HubException">The index has no weight_map or names a file outside the repository root.</exception>
    /// <exception cref="JsonException">The index is not JSON.</exception>
    public static IReadOnlyList<string> ShardsFromIndex(string indexJson)
    {
        using var document = JsonDocument.Parse(indexJson);
        if (document.RootElement.ValueKind != JsonValueKind.Object ||
            !document.RootElement.TryGetProperty("weight_map", out JsonElement map) ||
            map.ValueKind != JsonValueKind.Object)
        {
            throw new HubException(HubErrorKind.UnexpectedResponse, $"{WeightsIndexFile} has no 'weight_map' object.") { FileName = WeightsIndexFile };
        }

        var shards = new SortedSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty entry in map.EnumerateObject())
        {
            string? shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString() : null;
            if (string.IsNullOrEmpty(shard) || !IsSafeRootFileName(shard) || !shard.EndsWith(".safetensors", StringComparison.Ordinal))
            {
                throw new HubException(HubErrorKind.UnexpectedResponse, $"{WeightsIndexFile}: weight_map['{entry.Name}'] = '{shard}' is not a .safetensors file at the repository root.")
                {
                    FileName = WeightsIndexFile,
                };
            }

            shards.Add(shard);
        }

        return shards.ToList();
    }

    /// <summary>A plain file name: no folder, no '..', no characters that are unsafe in a path.</summary>
    public static bool IsSafeRootFileName(string name) =>
        name.Length is > 0 and <= 255 &&
        name != "." && name != ".." &&
        name.IndexOfAny(['/', '\\', ':', '\0']) < 0 &&
        !name.Any(char.IsControl);
}
