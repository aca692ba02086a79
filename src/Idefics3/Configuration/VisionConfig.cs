namespace Idefics3.Configuration;

/// <summary>
/// The <c>vision_config</c> block (a SigLIP-style ViT, <c>Idefics3VisionConfig</c> / <c>SmolVLMVisionConfig</c>).
/// Keys absent from the file take the Hugging Face class defaults.
/// </summary>
public sealed record VisionConfig
{
    /// <summary>Gets the embedding width D (<c>hidden_size</c>, default 1152).</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Gets the MLP width (<c>intermediate_size</c>, default 3072).</summary>
    public required int IntermediateSize { get; init; }

    /// <summary>Gets the number of encoder layers (<c>num_hidden_layers</c>, default 12).</summary>
    public required int NumHiddenLayers { get; init; }

    /// <summary>Gets the number of attention heads (<c>num_attention_heads</c>, default 16).</summary>
    public required int NumAttentionHeads { get; init; }

    /// <summary>Gets the number of input channels (<c>num_channels</c>, default 3).</summary>
    public required int NumChannels { get; init; }

    /// <summary>Gets the tile edge in pixels (<c>image_size</c>, default 224).</summary>
    public required int ImageSize { get; init; }

    /// <summary>Gets the patch edge in pixels (<c>patch_size</c>, default 32).</summary>
    public required int PatchSize { get; init; }

    /// <summary>Gets the activation (<c>hidden_act</c>, default <c>gelu_pytorch_tanh</c>, the only one supported).</summary>
    public required string HiddenAct { get; init; }

    /// <summary>Gets the LayerNorm epsilon (<c>layer_norm_eps</c>, default 1e-6).</summary>
    public required double LayerNormEps { get; init; }

    /// <summary>Gets the per-head width (hidden / heads).</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Gets the number of patches along one tile edge (image_size / patch_size, integer division).</summary>
    public int PatchesPerSide => ImageSize / PatchSize;

    /// <summary>Gets the number of patches (and position-embedding rows) per tile.</summary>
    public int NumPatches => PatchesPerSide * PatchesPerSide;

    internal static VisionConfig Read(JsonFields f)
    {
        var config = new VisionConfig
        {
            HiddenSize = f.Int("hidden_size", 1152),
            IntermediateSize = f.Int("intermediate_size", 3072),
            NumHiddenLayers = f.Int("num_hidden_layers", 12),
            NumAttentionHeads = f.Int("num_attention_heads", 16),
            NumChannels = f.Int("num_channels", 3),
            ImageSize = f.Int("image_size", 224),
            PatchSize = f.Int("patch_size", 32),
            HiddenAct = f.String("hidden_act", "gelu_pytorch_tanh"),
            LayerNormEps = f.Double("layer_norm_eps", 1e-6),
        };

        RequirePositive(f, "hidden_size", config.HiddenSize);
        RequirePositive(f, "intermediate_size", config.IntermediateSize);
        RequirePositive(f, "num_hidden_layers", config.NumHiddenLayers);
        RequirePositive(f, "num_attention_heads", config.NumAttentionHeads);
        RequirePositive(f, "num_channels", config.NumChannels);
        RequirePositive(f, "image_size", config.ImageSize);
        RequirePositive(f, "patch_size", config.PatchSize);
        if (config.HiddenSize % config.NumAttentionHeads != 0)
        {
            throw f.Error("num_attention_heads", $"hidden_size {config.HiddenSize} is not divisible by num_attention_heads {config.NumAttentionHeads}");
        }

        if (config.HiddenAct is not ("gelu_pytorch_tanh" or "gelu_tanh"))
        {
            throw f.Error("hidden_act", $"unsupported activation '{config.HiddenAct}' (supported: gelu_pytorch_tanh)");
        }

        if (config.ImageSize < config.PatchSize)
        {
            throw f.Error("image_size", $"image_size {config.ImageSize} is smaller than patch_size {config.PatchSize}");
        }

        return config;
    }

    internal static void RequirePositive(JsonFields f, string name, int value)
    {
        if (value <= 0)
        {
            throw f.Error(name, $"must be positive, found {value}");
        }
    }
}
