namespace Idefics3.Configuration;

/// <summary>
/// A model's <c>config.json</c> (<c>Idefics3Config</c>, model_type <c>idefics3</c>, or <c>SmolVLMConfig</c>,
/// model_type <c>smolvlm</c>). Hugging Face writes only the keys that differ from the class defaults; this reader
/// applies those defaults and validates the combination.
/// </summary>
public sealed record Idefics3Config
{
    /// <summary>The file name this type reads.</summary>
    public const string FileName = "config.json";

    /// <summary>Gets the model type (<c>idefics3</c> or <c>smolvlm</c>).</summary>
    public required string ModelType { get; init; }

    /// <summary>Gets the id of the <c>&lt;image&gt;</c> placeholder token (<c>image_token_id</c>, default 128257).</summary>
    public required int ImageTokenId { get; init; }

    /// <summary>Gets the pixel-shuffle factor r (<c>scale_factor</c>, default 2).</summary>
    public required int ScaleFactor { get; init; }

    /// <summary>Gets a value indicating whether lm_head shares the token embedding (<c>tie_word_embeddings</c>, default false).</summary>
    public required bool TieWordEmbeddings { get; init; }

    /// <summary>Gets the top-level <c>pad_token_id</c> (default 128002; meaningless for SmolVLM, prefer generation_config).</summary>
    public required int? PadTokenId { get; init; }

    /// <summary>Gets the vision tower configuration.</summary>
    public required VisionConfig Vision { get; init; }

    /// <summary>Gets the Llama decoder configuration.</summary>
    public required TextConfig Text { get; init; }

    /// <summary>
    /// Gets the top-level <c>eos_token_id</c> values (usually absent for these models). Only read when the model has no
    /// <c>generation_config.json</c>: see <see cref="GenerationConfig.FromModelConfig"/>.
    /// </summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Gets the number of <c>&lt;image&gt;</c> tokens per tile: (image_size / patch_size)² / scale_factor².</summary>
    public int ImageSeqLen => Vision.NumPatches / (ScaleFactor * ScaleFactor);

    /// <summary>Gets the connector input width: vision hidden × scale_factor².</summary>
    public int ConnectorInputSize => Vision.HiddenSize * ScaleFactor * ScaleFactor;

    /// <summary>Reads and validates <c>config.json</c>.</summary>
    /// <param name="path">The path of the file, or of the model folder that holds it.</param>
    /// <returns>The validated configuration.</returns>
    /// <exception cref="ConfigurationException">The file is missing, malformed or holds unsupported values.</exception>
    public static Idefics3Config Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string file = Directory.Exists(path) ? System.IO.Path.Combine(path, FileName) : path;
        return Parse(JsonFields.ReadFile(file), System.IO.Path.GetFileName(file));
    }

    /// <summary>Parses and validates the text of a <c>config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="fileName">The file name used in error messages.</param>
    /// <returns>The validated configuration.</returns>
    /// <exception cref="ConfigurationException">The text is malformed or holds unsupported values.</exception>
    public static Idefics3Config Parse(string json, string fileName = FileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var doc = JsonFields.Parse(json, fileName);
        var f = new JsonFields(doc.RootElement, fileName, string.Empty);
        string modelType = f.OptionalString("model_type") ?? throw f.Error("model_type", "required field is missing");
        if (modelType is not ("idefics3" or "smolvlm"))
        {
            throw f.Error("model_type", $"unsupported model type '{modelType}' (supported: idefics3, smolvlm)");
        }

        JsonFields vision = f.Object("vision_config") ?? throw f.Error("vision_config", "required block is missing");
        JsonFields text = f.Object("text_config") ?? throw f.Error("text_config", "required block is missing");
        var config = new Idefics3Config
        {
            ModelType = modelType,
            ImageTokenId = f.Int("image_token_id", 128257),
            ScaleFactor = f.Int("scale_factor", 2),
            TieWordEmbeddings = f.Bool("tie_word_embeddings", false),
            PadTokenId = f.Has("pad_token_id") ? f.OptionalInt("pad_token_id") : 128002,
            EosTokenIds = f.IntOrList("eos_token_id"),
            Vision = VisionConfig.Read(vision),
            Text = TextConfig.Read(text),
        };

        VisionConfig.RequirePositive(f, "scale_factor", config.ScaleFactor);
        // image_size need not be a multiple of patch_size: SmolVLM-Instruct uses 384/14, and the patch convolution
        // (like HF's unfold) ignores the trailing 6 pixels. What must hold is that whole patches tile by scale_factor.
        if (config.Vision.PatchesPerSide % config.ScaleFactor != 0)
        {
            throw f.Error(
                "scale_factor",
                $"patches per side image_size/patch_size = {config.Vision.ImageSize}/{config.Vision.PatchSize} = {config.Vision.PatchesPerSide} is not divisible by scale_factor {config.ScaleFactor}");
        }

        if (config.ImageTokenId < 0 || config.ImageTokenId >= config.Text.VocabSize)
        {
            throw f.Error("image_token_id", $"{config.ImageTokenId} is outside the vocabulary [0, {config.Text.VocabSize})");
        }

        return config;
    }

    /// <summary>
    /// Checks the <c>image_seq_len</c> of <c>processor_config.json</c> against the value this config implies.
    /// </summary>
    /// <param name="imageSeqLen">The value read from the processor config.</param>
    /// <param name="file">The file it was read from, for the error message.</param>
    /// <exception cref="ConfigurationException">The two disagree.</exception>
    public void ValidateImageSeqLen(int imageSeqLen, string file = "processor_config.json")
    {
        if (imageSeqLen != ImageSeqLen)
        {
            throw new ConfigurationException(
                file,
                "image_seq_len",
                $"{imageSeqLen} disagrees with config.json: (image_size/patch_size)^2/scale_factor^2 = ({Vision.ImageSize}/{Vision.PatchSize})^2/{ScaleFactor}^2 = {ImageSeqLen}");
        }
    }
}
