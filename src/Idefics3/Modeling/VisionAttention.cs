using Idefics3.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>Bidirectional multi-head attention with biases (SigLIP).</summary>
internal sealed class VisionAttention : nn.Module
{
    public readonly Linear q_proj;
    public readonly Linear k_proj;
    public readonly Linear v_proj;
    public readonly Linear out_proj;
    private readonly long _heads;
    private readonly long _headDim;

    public VisionAttention(WeightSource w, string name, VisionConfig c)
        : base(name)
    {
        q_proj = new Linear(w, name + ".q_proj", c.HiddenSize, c.HiddenSize, true);
        k_proj = new Linear(w, name + ".k_proj", c.HiddenSize, c.HiddenSize, true);
        v_proj = new Linear(w, name + ".v_proj", c.HiddenSize, c.HiddenSize, true);
        out_proj = new Linear(w, name + ".out_proj", c.HiddenSize, c.HiddenSize, true);
        _heads = c.NumAttentionHeads;
        _headDim = c.HeadDim;
        RegisterComponents();
    }

    // x [F, S, D], mask [F, 1, 1, S] additive or null -> [F, S, D]
    public Tensor forward(Tensor x, Tensor? mask)
    {
        long f = x.shape[0], s = x.shape[1];
        Tensor q = q_proj.forward(x).view(f, s, _heads, _headDim).transpose(1, 2); // [F, h, S, hd]
        Tensor k = k_proj.forward(x).view(f, s, _heads, _headDim).transpose(1, 2);
        Tensor v = v_proj.forward(x).view(f, s, _heads, _headDim).transpose(1, 2);
        Tensor a = nn.functional.scaled_dot_product_attention(q, k, v, mask, 0.0, false); // scale hd^-0.5
        return out_proj.forward(a.transpose(1, 2).reshape(f, s, _heads * _headDim));
    }
}
