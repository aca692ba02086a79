using Idefics3.Configuration;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>
/// The SigLIP vision tower (HF <c>Idefics3VisionTransformer</c>): embeddings, encoder, post_layernorm.
/// pixels [F, C, H, W] + pixel mask [F, H, W] -> last hidden state [F, N², D].
/// </summary>
internal sealed class VisionTransformer : nn.Module
{
    public readonly VisionEmbeddings embeddings;
    public readonly VisionEncoder encoder;
    public readonly LayerNorm post_layernorm;
    private readonly VisionConfig _config;

    public VisionTransformer(WeightSource w, string name, VisionConfig c)
        : base(name)
    {
        embeddings = new VisionEmbeddings(w, name + ".embeddings", c);
        encoder = new VisionEncoder(w, name + ".encoder", c);
        post_layernorm = new LayerNorm(w, name + ".post_layernorm", c.HiddenSize, c.LayerNormEps);
        _config = c;
        RegisterComponents();
    }

    /// <summary>Runs the tower; when <paramref name="trace"/> is given, appends embeddings and every layer output.</summary>
    public Tensor forward(Tensor pixels, Tensor pixelMask, List<Tensor>? trace = null)
    {
        Tensor patchMask = VisionPositionIds.PatchMask(pixelMask, _config.PatchSize, _config.PatchesPerSide); // [F, N, N]
        Tensor positionIds = VisionPositionIds.Compute(patchMask);                                              // [F, N²]
        Tensor h = embeddings.forward(pixels, positionIds);                                                     // [F, N², D]
        trace?.Add(h);

        Tensor? mask = null;
        Tensor keyMask = patchMask.flatten(1);                                                                  // [F, N²]
        if (!keyMask.all().item<bool>())
        {
            // additive mask on padded keys, broadcast over heads and queries: [F, 1, 1, N²]
            mask = torch.zeros(keyMask.shape, h.dtype, h.device)
                .MaskedFill(keyMask.logical_not(), torch.finfo(h.dtype).min)
                .view(keyMask.shape[0], 1, 1, keyMask.shape[1]);
        }

        foreach (VisionEncoderLayer layer in encoder.layers)
        {
            if (trace is not null)
            {
                h = layer.forward(h, mask);
                trace.Add(h);
                continue;
            }

            h = LayerScope.Run(h, x => layer.forward(x, mask));
        }

        return post_layernorm.forward(h);
    }
}
