using Idefics3.Configuration;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>Llama block: h += attn(RMSNorm_in(h)); h += mlp(RMSNorm_post(h)).</summary>
internal sealed class DecoderLayer : nn.Module
{
    public readonly TextAttention self_attn;
    public readonly TextMlp mlp;
    public readonly RmsNorm input_layernorm;
    public readonly RmsNorm post_attention_layernorm;

    public DecoderLayer(WeightSource w, string name, TextConfig c)
        : base(name)
    {
        self_attn = new TextAttention(w, name + ".self_attn", c);
        mlp = new TextMlp(w, name + ".mlp", c);
        input_layernorm = new RmsNorm(w, name + ".input_layernorm", c.HiddenSize, c.RmsNormEps);
        post_attention_layernorm = new RmsNorm(w, name + ".post_attention_layernorm", c.HiddenSize, c.RmsNormEps);
        RegisterComponents();
    }

    // h [B, T, H] -> [B, T, H]
    public Tensor forward(Tensor h, RotaryEmbedding rope, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer, bool causal = false)
    {
        h = h.Add(self_attn.forward(input_layernorm.forward(h), rope, cos, sin, mask, cache, layer, causal));
        return h.Add(mlp.forward(post_attention_layernorm.forward(h)));
    }
}
