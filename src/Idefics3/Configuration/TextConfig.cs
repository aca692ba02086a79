namespace Idefics3.Configuration;

/// <summary>
/// The <c>text_config</c> block (a Llama decoder). Keys absent from the file take the Hugging Face
/// <c>LlamaConfig</c> class defaults; SmolVLM's extra keys (<c>perceiver_config</c>, <c>use_resampler</c>, ...) are ignored.
/// </summary>
public sealed record TextConfig
{
    /// <summary>Gets the vocabulary size (<c>vocab_size</c>, default 32000).</summary>
    public required int VocabSize { get; init; }

    /// <summary>Gets the model width (<c>hidden_size</c>, default 4096).</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Gets the SwiGLU width (<c>intermediate_size</c>, default 11008).</summary>
    public required int IntermediateSize { get; init; }

    /// <summary>Gets the number of decoder layers (<c>num_hidden_layers</c>, default 32).</summary>
    public required int NumHiddenLayers { get; init; }

    /// <summary>Gets the number of query heads (<c>num_attention_heads</c>, default 32).</summary>
    public required int NumAttentionHeads { get; init; }

    /// <summary>Gets the number of key/value heads (<c>num_key_value_heads</c>, default = query heads).</summary>
    public required int NumKeyValueHeads { get; init; }

    /// <summary>Gets the per-head width (<c>head_dim</c>, default hidden / heads).</summary>
    public required int HeadDim { get; init; }

    /// <summary>Gets the RMSNorm epsilon (<c>rms_norm_eps</c>, default 1e-6).</summary>
    public required double RmsNormEps { get; init; }

    /// <summary>Gets the RoPE base (<c>rope_theta</c>, default 10000).</summary>
    public required double RopeTheta { get; init; }

    /// <summary>Gets the RoPE scaling rule, or null for plain RoPE.</summary>
    public required RopeScaling? RopeScaling { get; init; }

    /// <summary>Gets the trained context length (<c>max_position_embeddings</c>, default 2048).</summary>
    public required int MaxPositionEmbeddings { get; init; }

    /// <summary>Gets the MLP activation (<c>hidden_act</c>, default <c>silu</c>, the only one supported).</summary>
    public required string HiddenAct { get; init; }

    /// <summary>Gets a value indicating whether the attention projections have biases (<c>attention_bias</c>; only false is supported).</summary>
    public required bool AttentionBias { get; init; }

    /// <summary>Gets a value indicating whether the MLP projections have biases (<c>mlp_bias</c>; only false is supported).</summary>
    public required bool MlpBias { get; init; }

    /// <summary>Gets the text config's <c>bos_token_id</c>, if any.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>Gets the text config's <c>eos_token_id</c> (an integer or a list in the file).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Gets the text config's <c>pad_token_id</c>, if any.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Gets the number of query heads that share one key/value head.</summary>
    public int QueriesPerKeyValueHead => NumAttentionHeads / NumKeyValueHeads;

    internal static TextConfig Read(JsonFields f)
    {
        string modelType = f.String("model_type", "llama");
        if (modelType != "llama")
        {
            throw f.Error("model_type", $"unsupported text model type '{modelType}' (supported: llama)");
        }

        int hidden = f.Int("hidden_size", 4096);
        int heads = f.Int("num_attention_heads", 32);
        VisionConfig.RequirePositive(f, "hidden_size", hidden);
        VisionConfig.RequirePositive(f, "num_attention_heads", heads);
        int kvHeads = f.Int("num_key_value_heads", heads);
        VisionConfig.RequirePositive(f, "num_key_value_heads", kvHeads);
        int? headDim = f.OptionalInt("head_dim");
        if (headDim is null && hidden % heads != 0)
        {
            throw f.Error("num_attention_heads", $"hidden_size {hidden} is not divisible by num_attention_heads {heads} and head_dim is not given");
        }

        if (heads % kvHeads != 0)
        {
            throw f.Error("num_key_value_heads", $"num_attention_heads {heads} is not divisible by num_key_value_heads {kvHeads}");
        }

        var config = new TextConfig
        {
            VocabSize = f.Int("vocab_size", 32000),
            HiddenSize = hidden,
            IntermediateSize = f.Int("intermediate_size", 11008),
            NumHiddenLayers = f.Int("num_hidden_layers", 32),
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = headDim ?? hidden / heads,
            RmsNormEps = f.Double("rms_norm_eps", 1e-6),
            RopeTheta = f.Double("rope_theta", 10000.0),
            RopeScaling = RopeScaling.Read(f),
            MaxPositionEmbeddings = f.Int("max_position_embeddings", 2048),
            HiddenAct = f.String("hidden_act", "silu"),
            AttentionBias = f.Bool("attention_bias", false),
            MlpBias = f.Bool("mlp_bias", false),
            BosTokenId = f.OptionalInt("bos_token_id"),
            EosTokenIds = f.IntOrList("eos_token_id"),
            PadTokenId = f.OptionalInt("pad_token_id"),
        };

        VisionConfig.RequirePositive(f, "vocab_size", config.VocabSize);
        VisionConfig.RequirePositive(f, "intermediate_size", config.IntermediateSize);
        VisionConfig.RequirePositive(f, "num_hidden_layers", config.NumHiddenLayers);
        VisionConfig.RequirePositive(f, "head_dim", config.HeadDim);
        if (config.HeadDim % 2 != 0)
        {
            throw f.Error("head_dim", $"must be even for rotary embeddings, found {config.HeadDim}");
        }

        if (!double.IsFinite(config.RopeTheta) || config.RopeTheta <= 0)
        {
            throw f.Error("rope_theta", "must be a finite positive number");
        }

        if (!double.IsFinite(config.RmsNormEps) || config.RmsNormEps <= 0)
        {
            throw f.Error("rms_norm_eps", $"must be a finite positive number, found {config.RmsNormEps}");
        }

        VisionConfig.RequirePositive(f, "max_position_embeddings", config.MaxPositionEmbeddings);

        if (config.HiddenAct != "silu")
        {
            throw f.Error("hidden_act", $"unsupported activation '{config.HiddenAct}' (supported: silu)");
        }

        if (config.AttentionBias)
        {
            throw f.Error("attention_bias", "attention biases are not supported (no Idefics3/SmolVLM checkpoint uses them)");
        }

        if (config.MlpBias)
        {
            throw f.Error("mlp_bias", "MLP biases are not supported (no Idefics3/SmolVLM checkpoint uses them)");
        }

        return config;
    }
}
