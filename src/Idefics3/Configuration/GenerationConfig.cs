namespace Idefics3.Configuration;

/// <summary>
/// A model's <c>generation_config.json</c>: the token ids generation needs. Absent keys are null or empty.
/// </summary>
public sealed record GenerationConfig
{
    /// <summary>The file name this type reads.</summary>
    public const string FileName = "generation_config.json";

    /// <summary>Gets the <c>bos_token_id</c>, if any.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>Gets the <c>eos_token_id</c> values (the file holds an integer or a list); generation stops on any of them.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Gets the <c>pad_token_id</c>, if any.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Gets the <c>max_new_tokens</c>, if any.</summary>
    public int? MaxNewTokens { get; init; }

    /// <summary>Gets the <c>max_length</c> (prompt + new tokens), if any.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Reads <c>generation_config.json</c>.</summary>
    /// <param name="path">The path of the file, or of the model folder that holds it.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ConfigurationException">The file is missing or malformed.</exception>
    public static GenerationConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        return Parse(JsonFields.ReadFile(file), Path.GetFileName(file));
    }

    /// <summary>Reads <c>generation_config.json</c> from a model folder, or returns null when the folder has none.</summary>
    /// <param name="modelFolder">The model folder.</param>
    /// <returns>The configuration, or null.</returns>
    public static GenerationConfig? LoadIfPresent(string modelFolder)
    {
        string file = Path.Combine(modelFolder, FileName);
        return File.Exists(file) ? Load(file) : null;
    }

    /// <summary>
    /// The generation settings of a model without <c>generation_config.json</c>, as Hugging Face's
    /// <c>GenerationConfig.from_model_config</c> derives them: the top-level <c>eos_token_id</c> / <c>bos_token_id</c> /
    /// <c>pad_token_id</c> of config.json, and where those are absent the ones of <c>text_config</c>.
    /// </summary>
    /// <param name="config">The model configuration.</param>
    /// <returns>The derived configuration.</returns>
    public static GenerationConfig FromModelConfig(Idefics3Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new GenerationConfig
        {
            BosTokenId = config.Text.BosTokenId,
            EosTokenIds = config.EosTokenIds.Count > 0 ? config.EosTokenIds : config.Text.EosTokenIds,
            PadTokenId = config.PadTokenId ?? config.Text.PadTokenId,
        };
    }

    /// <summary>Parses the text of a <c>generation_config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="fileName">The file name used in error messages.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ConfigurationException">The text is malformed.</exception>
    public static GenerationConfig Parse(string json, string fileName = FileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var doc = JsonFields.Parse(json, fileName);
        var f = new JsonFields(doc.RootElement, fileName, string.Empty);
        var config = new GenerationConfig
        {
            BosTokenId = f.OptionalInt("bos_token_id"),
            EosTokenIds = f.IntOrList("eos_token_id"),
            PadTokenId = f.OptionalInt("pad_token_id"),
            MaxNewTokens = f.OptionalInt("max_new_tokens"),
            MaxLength = f.OptionalInt("max_length"),
        };
        if (config.MaxNewTokens is <= 0)
        {
            throw f.Error("max_new_tokens", $"must be positive, found {config.MaxNewTokens}");
        }

        return config;
    }
}
