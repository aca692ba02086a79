using Idefics3.Configuration;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>Pre-LN transformer block: h += attn(LN1(h)); h += mlp(LN2(h)).</summary>
internal sealed class VisionEncoderLayer : nn.Module
{
    public readonly VisionAttention self_attn;
    public readonly LayerNorm layer_norm1;
    public readonly VisionMlp mlp;
    public readonly LayerNorm layer_norm2;

    public VisionEncoderLayer(WeightSource w, string name, VisionConfig c)
        : base(name)
    {
        self_attn = new VisionAttention(w, name + ".self_attn", c);
        layer_norm1 = new LayerNorm(w, name + ".layer_norm1", c.HiddenSize, c.LayerNormEps);
        mlp = new VisionMlp(w, name + ".mlp", c);
        layer_norm2 = new LayerNorm(w, name + ".layer_norm2", c.HiddenSize, c.LayerNormEps);
        RegisterComponents();
    }

    // h [F, S, D] -> [F, S, D]
    public Tensor forward(Tensor h, Tensor? mask)
    {
        h = h.Add(self_attn.forward(layer_norm1.forward(h), mask));
        return h.Add(mlp.forward(layer_norm2.forward(h)));
    }
}
