using Idefics3.Configuration;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>
/// Llama grouped-query attention with RoPE and a KV cache. K/V heads are not repeated: the query heads of one group are
/// folded into the sequence axis ([B, kv, groups·T, hd]) so SDPA reads each cached K/V head once.
/// </summary>
internal sealed class TextAttention : nn.Module
{
    public readonly Linear q_proj;
    public readonly Linear k_proj;
    public readonly Linear v_proj;
    public readonly Linear o_proj;
    private readonly long _heads;
    private readonly long _kvHeads;
    private readonly long _headDim;

    public TextAttention(WeightSource w, string name, TextConfig c)
        : base(name)
    {
        _heads = c.NumAttentionHeads;
        _kvHeads = c.NumKeyValueHeads;
        _headDim = c.HeadDim;
        q_proj = new Linear(w, name + ".q_proj", c.HiddenSize, _heads * _headDim, false);
        k_proj = new Linear(w, name + ".k_proj", c.HiddenSize, _kvHeads * _headDim, false);
        v_proj = new Linear(w, name + ".v_proj", c.HiddenSize, _kvHeads * _headDim, false);
        o_proj = new Linear(w, name + ".o_proj", _heads * _headDim, c.HiddenSize, false);
        RegisterComponents();
    }

    // x [B, T, H]; cos/sin [B, 1, T, hd]; mask [B|1, 1, T, S] additive or null (no masking at all) -> [B, T, H]
    // causal: the new positions are the whole sequence (no cached prefix, no padding) and mask is null.
    public Tensor forward(Tensor x, RotaryEmbedding rope, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer, bool causal = false)
    {
        long b = x.shape[0], t = x.shape[1];
        long groups = _heads / _kvHeads;
        Tensor q = q_proj.forward(x).view(b, t, _heads, _headDim).transpose(1, 2);   // [B, h, T, hd]
        Tensor k = k_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2); // [B, kv, T, hd]
        Tensor v = v_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        q = rope.Apply(q, cos, sin);
        k = rope.Apply(k, cos, sin);
        if (cache is not null)
        {
            (k, v) = cache.Update(layer, k, v);                                         // [B, kv, S, hd]
        }

        if (causal)
        {
            // SDPA's causal kernel (flash, blocks above the diagonal skipped) needs as many K/V heads as query heads.
            if (groups > 1)
            {
                k = k.repeat_interleave(groups, 1);                                      // [B, h, T, hd]
                v = v.repeat_interleave(groups, 1);
            }

            Tensor c = nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, true); // [B, h, T, hd]
            return o_proj.forward(c.transpose(1, 2).reshape(b, t, _heads * _headDim));
        }

        if (t == 1 && mask is null)
        {
            // One new position (decode): softmax(q·Kᵀ·scale)·V written out, HF's eager formulation (softmax in float32).
            // For a single query row this is several times faster than the SDPA kernel, and GQA needs no expansion:
            // the query heads of a group become rows of one product with their shared K/V head.
            Tensor qg = q.reshape(b, _kvHeads, groups, _headDim);                           // [B, kv, g, hd]
            Tensor scores = qg.matmul(k.transpose(2, 3)).MulInPlace(1.0 / Math.Sqrt(_headDim));   // [B, kv, g, S]
            Tensor weights = scores.softmax(-1, ScalarType.Float32).to_type(q.dtype);
            Tensor o = weights.matmul(v);                                                   // [B, kv, g, hd]
            return o_proj.forward(o.reshape(b, 1, _heads * _headDim));
        }

        if (groups > 1)
        {
            q = q.reshape(b, _kvHeads, groups * t, _headDim);                            // row g·T + t
            if (mask is not null)
            {
                long s = mask.shape[3];
                mask = mask.unsqueeze(2).expand(mask.shape[0], 1, groups, t, s).reshape(mask.shape[0], 1, groups * t, s);
            }
        }

        Tensor a = nn.functional.scaled_dot_product_attention(q, k, v, mask, 0.0, false); // [B, kv, groups·T, hd]
        return o_proj.forward(a.reshape(b, _heads, t, _headDim).transpose(1, 2).reshape(b, t, _heads * _headDim));
    }
}
