using Idefics3.Configuration;

namespace Idefics3.Diagnostics;

/// <summary>
/// The work a forward pass does, from the configuration: FLOPs (a multiply-add counts 2) for the vision tower and
/// prefill, bytes read per decoded token. These turn timings into fractions of the machine's roofline.
/// </summary>
public sealed class WorkModel
{
    private readonly Idefics3Config _c;

    /// <summary>Initializes a new instance of the <see cref="WorkModel"/> class.</summary>
    /// <param name="config">The model configuration.</param>
    public WorkModel(Idefics3Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        _c = config;
    }

    /// <summary>FLOPs of one tile through the vision tower and the connector.</summary>
    public double VisionFlopsPerTile
    {
        get
        {
            VisionConfig v = _c.Vision;
            double p = (double)v.PatchesPerSide * v.PatchesPerSide;
            double d = v.HiddenSize, i = v.IntermediateSize;
            double patchEmbed = 2 * p * 3 * v.PatchSize * v.PatchSize * d;
            double layer = (2 * p * ((4 * d * d) + (2 * d * i))) + (4 * p * p * d);
            double connector = 2 * (p / (_c.ScaleFactor * _c.ScaleFactor)) * _c.ConnectorInputSize * _c.Text.HiddenSize;
            return patchEmbed + (v.NumHiddenLayers * layer) + connector;
        }
    }

    /// <summary>FLOPs of prefilling <paramref name="tokens"/> new positions after <paramref name="cached"/> cached ones.</summary>
    /// <param name="tokens">New positions.</param>
    /// <param name="cached">Positions already in the KV cache.</param>
    /// <returns>The FLOPs, including the lm_head of the last position.</returns>
    public double PrefillFlops(int tokens, int cached = 0)
    {
        TextConfig t = _c.Text;
        double h = t.HiddenSize, q = t.NumAttentionHeads * t.HeadDim, kv = t.NumKeyValueHeads * t.HeadDim, f = t.IntermediateSize;
        double linear = 2 * tokens * ((h * q) + (2 * h * kv) + (q * h) + (3 * h * f));
        double pairs = (tokens * (tokens + 1) / 2.0) + ((double)tokens * cached);
        double attention = 4 * pairs * q;
        return (t.NumHiddenLayers * (linear + attention)) + (2 * h * t.VocabSize);
    }

    /// <summary>Bytes read to decode one token at context length <paramref name="context"/>.</summary>
    /// <param name="context">Positions in the KV cache.</param>
    /// <param name="elementSize">Bytes per element (2 for bfloat16, 4 for float32).</param>
    /// <returns>The bytes.</returns>
    public double DecodeBytesPerToken(int context, int elementSize)
    {
        (double layers, double lmHead, double cache) = DecodeBytesByPart(context, elementSize);
        return layers + lmHead + cache;
    }

    /// <summary>
    /// The bytes one decoded token reads, by part: the decoder layers present in the configuration (projections, MLP,
    /// norms), the lm_head (with the final norm and the token's embedding row) and the KV cache at
    /// <paramref name="context"/> positions (keys and values of every layer).
    /// </summary>
    /// <param name="context">Positions in the KV cache.</param>
    /// <param name="elementSize">Bytes per element (2 for bfloat16, 4 for float32).</param>
    /// <returns>The bytes of each part.</returns>
    public (double Layers, double LmHead, double Cache) DecodeBytesByPart(int context, int elementSize)
    {
        DecodeStreams s = Streams(context, elementSize);
        double h = _c.Text.HiddenSize, n = _c.Text.NumHiddenLayers;
        return (s.Qkv + s.OutputProjection + s.Mlp + (n * 2 * h * elementSize), s.LmHead + (2 * h * elementSize), s.Cache);
    }

    /// <summary>
    /// The bytes one decoded token streams per kernel group, all layers present: q/k/v weights, o_proj, the MLP's three
    /// matrices, the lm_head, and the KV cache at <paramref name="context"/> positions (what attention reads).
    /// </summary>
    internal DecodeStreams Streams(int context, int elementSize)
    {
        TextConfig t = _c.Text;
        double h = t.HiddenSize, q = t.NumAttentionHeads * t.HeadDim, kv = t.NumKeyValueHeads * t.HeadDim, f = t.IntermediateSize, n = t.NumHiddenLayers;
        return new DecodeStreams(
            n * h * (q + (2 * kv)) * elementSize, n * q * h * elementSize, n * 3 * h * f * elementSize, (double)t.VocabSize * h * elementSize, 2 * n * kv * context * elementSize);
    }

    /// <summary>Bytes of the KV cache per token.</summary>
    /// <param name="elementSize">Bytes per element (2 for bfloat16, 4 for float32).</param>
    /// <returns>The bytes.</returns>
    public double KvBytesPerToken(int elementSize) => 2.0 * _c.Text.NumHiddenLayers * _c.Text.NumKeyValueHeads * _c.Text.HeadDim * elementSize;
}

/// <summary>Bytes one decoded token streams per kernel group (see <see cref="WorkModel.Streams"/>).</summary>
internal readonly record struct DecodeStreams(double Qkv, double OutputProjection, double Mlp, double LmHead, double Cache);
