namespace Idefics3.Modeling.FastDecode;

/// <summary>The parts of one fast decode step that <see cref="DecodeProfile"/> times separately.</summary>
internal enum DecodePhase
{
    /// <summary>Residual add + RMSNorm (input, post-attention and final norms).</summary>
    Norm,

    /// <summary>q/k/v projections (one pass).</summary>
    QkvProjection,

    /// <summary>RoPE on q and k, and the KV cache write.</summary>
    Rope,

    /// <summary>Attention of the query over the cache, including the merge of position ranges.</summary>
    Attention,

    /// <summary>o_proj.</summary>
    OutputProjection,

    /// <summary>gate/up projections (one pass), SiLU·up, down_proj.</summary>
    Mlp,

    /// <summary>lm_head and the logits tensor.</summary>
    LmHead,
}
