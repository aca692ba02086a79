using Idefics3.Configuration;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>The Llama decoder (HF <c>LlamaModel</c>): embed_tokens, layers, final norm.</summary>
internal sealed class TextModel : nn.Module
{
    public readonly Embedding embed_tokens;
    public readonly TorchSharp.Modules.ModuleList<DecoderLayer> layers = new();
    public readonly RmsNorm norm;
    private readonly RotaryEmbedding _rope;

    public TextModel(WeightSource w, string name, TextConfig c, Device device)
        : base(name)
    {
        embed_tokens = new Embedding(w, name + ".embed_tokens", c.VocabSize, c.HiddenSize);
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            layers.Add(new DecoderLayer(w, $"{name}.layers.{i}", c));
        }

        norm = new RmsNorm(w, name + ".norm", c.HiddenSize, c.RmsNormEps);
        _rope = new RotaryEmbedding(c, device);
        RegisterComponents();
    }

    public RotaryEmbedding Rope => _rope;

    // embeds [B, T, H], positions [B, T], mask2d [B, past+T] (nonzero = attend) or null -> normed hidden [B, T, H]
    public Tensor forward(Tensor embeds, Tensor positions, Tensor? mask2d, KvCache? cache)
    {
        long past = cache?.Length ?? 0;
        long t = embeds.shape[1];
        (Tensor cos, Tensor sin) = _rope.CosSin(positions, embeds.dtype);
        // A fresh, unpadded prompt is plain causal attention: SDPA's own causal kernel is much faster than an explicit mask.
        bool causal = t > 1 && past == 0 && (mask2d is null || mask2d.Ne(0).all().item<bool>());
        Tensor? mask = causal ? null : BuildMask(mask2d, past, t, embeds.dtype, embeds.device);
        Tensor h = embeds;
        for (int i = 0; i < layers.Count; i++)
        {
            DecoderLayer layer = layers[i];
            int index = i;
            h = LayerScope.Run(h, x => layer.forward(x, _rope, cos, sin, mask, cache, index, causal), disposeInput: !ReferenceEquals(h, embeds));
        }

        cache?.Advance(t);
        return norm.forward(h);
    }

    /// <summary>
    /// Additive causal + padding mask [B|1, 1, T, past+T] with finfo(dtype).min on masked keys (as HF eager), or null
    /// when nothing needs masking (one new token, no padding).
    /// </summary>
    public static Tensor? BuildMask(Tensor? mask2d, long past, long t, ScalarType dtype, Device device)
    {
        long s = past + t;
        if (mask2d is not null && mask2d.shape[1] != s)
        {
            throw new ArgumentException($"attention mask has {mask2d.shape[1]} columns; expected cached + new = {past} + {t} = {s}");
        }

        bool padded = mask2d is not null && !mask2d.Ne(0).all().item<bool>();
        if (t == 1 && !padded)
        {
            return null;
        }

        Tensor keyPos = ScalarMath.Arange(0, s, ScalarType.Int64, device);                 // [S]
        Tensor queryPos = ScalarMath.Arange(past, s, ScalarType.Int64, device);              // [T]
        Tensor allowed = keyPos.unsqueeze(0).le(queryPos.unsqueeze(1)).unsqueeze(0);         // [1, T, S]
        if (padded)
        {
            allowed = allowed.logical_and(mask2d!.Ne(0).unsqueeze(1));                       // [B, T, S]
        }

        return torch.zeros(allowed.shape, dtype, device)
            .MaskedFill(allowed.logical_not(), torch.finfo(dtype).min)
            .unsqueeze(1);
    }
}
