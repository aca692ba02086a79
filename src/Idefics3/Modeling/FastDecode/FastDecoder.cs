using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Idefics3.Configuration;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling.FastDecode;

/// <summary>
/// The single-token decode step on the CPU without libtorch: per layer a handful of memory-bound C# kernels over the
/// memory-mapped weights and the KV cache, read in place (no weight copies): fused residual add + RMSNorm, q/k/v in one
/// pass, RoPE + cache write, one-query GQA attention with an online softmax, o_proj, gate/up in one pass, SiLU·up,
/// down_proj, and the lm_head. Activations live in preallocated native buffers, so a step allocates only its logits
/// tensor. The products run on <see cref="DecodeWorkers"/>. float32 models compute in float32 (libtorch's arithmetic,
/// summation order aside); bfloat16 models round to bfloat16 wherever libtorch's bfloat16 ops round. Prefill, vision,
/// batches, padding masks and non-CPU devices stay on libtorch.
/// </summary>
internal sealed unsafe class FastDecoder : IDisposable
{
    private readonly object _gate = new();
    private readonly TextConfig _c;
    private readonly bool _bf16;
    private readonly LayerWeights[] _layers;
    private readonly WeightMatrix _lmHead;
    private readonly float* _finalNorm;
    private readonly float* _invFreq;
    private readonly DecodeWorkers _workers;
    private readonly GemvJob _gemv = new();
    private readonly AttentionJob _attention;
    private readonly List<nint> _allocations = [];
    private readonly float* _h, _xn, _q, _k, _v, _attn, _o, _gate1, _up, _down, _cos, _sin;
    private bool _disposed;

    private FastDecoder(Idefics3CausalLM module, TextConfig c, bool bf16, int threads)
    {
        _c = c;
        _bf16 = bf16;
        TextModel text = module.model.text_model;
        _layers = new LayerWeights[c.NumHiddenLayers];
        for (int i = 0; i < _layers.Length; i++)
        {
            DecoderLayer l = text.layers[i];
            _layers[i] = new LayerWeights(
                Matrix(l.self_attn.q_proj.weight), Matrix(l.self_attn.k_proj.weight), Matrix(l.self_attn.v_proj.weight), Matrix(l.self_attn.o_proj.weight),
                Matrix(l.mlp.gate_proj.weight), Matrix(l.mlp.up_proj.weight), Matrix(l.mlp.down_proj.weight),
                FloatCopy(l.input_layernorm.weight), FloatCopy(l.post_attention_layernorm.weight));
        }

        _lmHead = Matrix(module.lm_head.weight);
        _finalNorm = FloatCopy(text.norm.weight);
        _invFreq = FloatCopy(text.Rope.InvFreq);
        int h = c.HiddenSize, f = c.IntermediateSize, hd = c.HeadDim;
        _h = Alloc(h);
        _xn = Alloc(h);
        _q = Alloc(c.NumAttentionHeads * hd);
        _k = Alloc(c.NumKeyValueHeads * hd);
        _v = Alloc(c.NumKeyValueHeads * hd);
        _attn = Alloc(c.NumAttentionHeads * hd);
        _o = Alloc(h);
        _gate1 = Alloc(f);
        _up = Alloc(f);
        _down = Alloc(h);
        _cos = Alloc(hd / 2);
        _sin = Alloc(hd / 2);
        const int MaxSplits = 16;
        int groups = c.NumAttentionHeads / c.NumKeyValueHeads;
        _attention = new AttentionJob(c.NumKeyValueHeads, groups, hd, Alloc(AttentionJob.PartialFloats(c.NumKeyValueHeads, groups, hd, MaxSplits)), MaxSplits);
        _workers = new DecodeWorkers(threads);
    }

    /// <summary>Gets the number of threads the step runs on.</summary>
    public int Threads => _workers.Threads;

    /// <summary>Gets or sets the profile that accumulates per-phase times (null: not timed).</summary>
    public DecodeProfile? Profile { get; set; }

    /// <summary>Whether the fast step can run this model: CPU, float32 or bfloat16, contiguous weights, SIMD hardware.</summary>
    /// <param name="module">The model.</param>
    /// <param name="config">Its text configuration.</param>
    /// <param name="dtype">The compute dtype.</param>
    /// <param name="device">The device.</param>
    /// <returns>True when supported.</returns>
    public static bool IsSupported(Idefics3CausalLM module, TextConfig config, ScalarType dtype, Device device) =>
        Vector256.IsHardwareAccelerated && device.type == DeviceType.CPU &&
        dtype is ScalarType.Float32 or ScalarType.BFloat16 &&
        !config.AttentionBias && !config.MlpBias && config.HiddenAct == "silu" && config.HeadDim % 2 == 0 &&
        config.NumAttentionHeads % config.NumKeyValueHeads == 0 &&
        module.parameters().All(p => p.dtype == dtype && p.is_contiguous());

    /// <summary>Creates the decoder for a supported model (see <see cref="IsSupported"/>).</summary>
    /// <param name="module">The model.</param>
    /// <param name="config">Its text configuration.</param>
    /// <param name="dtype">The compute dtype.</param>
    /// <param name="threads">Threads for the step, the caller included.</param>
    /// <returns>The decoder.</returns>
    public static FastDecoder Create(Idefics3CausalLM module, TextConfig config, ScalarType dtype, int threads) =>
        new(module, config, dtype == ScalarType.BFloat16, threads);

    /// <summary>
    /// Runs one new position of a single sequence when the call is a plain decode step (batch 1, one token, no padding,
    /// a cache of this model's dtype); otherwise returns null and the caller runs libtorch.
    /// </summary>
    /// <param name="embeds">The new token's embedding [1, 1, H].</param>
    /// <param name="positionIds">Its RoPE position [1, 1].</param>
    /// <param name="attentionMask">Mask [1, cached + 1] or null.</param>
    /// <param name="cache">The KV cache, extended by one position.</param>
    /// <returns>float32 logits [1, 1, vocab], or null.</returns>
    public Tensor? TryForward(Tensor embeds, Tensor positionIds, Tensor? attentionMask, KvCache? cache)
    {
        if (cache is null || cache.Batch != 1 || embeds.dim() != 3 || embeds.shape[0] != 1 || embeds.shape[1] != 1 ||
            positionIds.NumberOfElements != 1 || embeds.device_type != DeviceType.CPU || cache.KeyBuffer(0).dtype != embeds.dtype ||
            embeds.dtype != (_bf16 ? ScalarType.BFloat16 : ScalarType.Float32) || !embeds.is_contiguous() ||
            cache.KeyBuffer(0).device_type != DeviceType.CPU)
        {
            return null;
        }

        if (attentionMask is not null)
        {
            using Tensor nonzero = attentionMask.count_nonzero();
            if (attentionMask.NumberOfElements != cache.Length + 1 || nonzero.item<long>() != attentionMask.NumberOfElements)
            {
                return null;
            }
        }

        long position;
        using (Tensor p = positionIds.to_type(ScalarType.Int64))
        {
            position = p.item<long>();
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (cache.Length + 1 > cache.Capacity)
            {
                throw new InvalidOperationException($"KV cache capacity {cache.Capacity} exceeded: {cache.Length} positions cached, 1 more requested");
            }

            DecodeMath.Load(TensorData.Pointer(embeds), _bf16, _h, _c.HiddenSize);
            Tensor logits = torch.empty([1, 1, _lmHead.Rows], ScalarType.Float32);
            Step(position, cache, (float*)TensorData.Pointer(logits));
            cache.Advance(1);
            return logits;
        }
    }

    private void Step(long position, KvCache cache, float* logits)
    {
        int h = _c.HiddenSize, f = _c.IntermediateSize, hd = _c.HeadDim, heads = _c.NumAttentionHeads, kvHeads = _c.NumKeyValueHeads;
        float eps = (float)_c.RmsNormEps;
        int threads = _workers.Threads;
        long slot = cache.Length;
        int elementSize = _bf16 ? 2 : 4;
        DecodeProfile? profile = Profile;
        long t = Stopwatch.GetTimestamp();
        for (int i = 0; i < hd / 2; i++)
        {
            // HF: freqs = position (float32) · inv_freq, cos/sin in float32, cast to the compute dtype.
            float angle = (float)position * _invFreq[i];
            _cos[i] = _bf16 ? DecodeMath.Round(MathF.Cos(angle)) : MathF.Cos(angle);
            _sin[i] = _bf16 ? DecodeMath.Round(MathF.Sin(angle)) : MathF.Sin(angle);
        }

        for (int l = 0; l < _layers.Length; l++)
        {
            ref readonly LayerWeights w = ref _layers[l];
            DecodeMath.AddRmsNorm(_h, l == 0 ? null : _down, w.InputNorm, _xn, h, eps, _bf16);
            Mark(profile, DecodePhase.Norm, ref t);

            _workers.Run(_gemv, _gemv.Prepare(_xn, threads, (w.Q, (nint)_q), (w.K, (nint)_k), (w.V, (nint)_v)));
            RoundIfBFloat16(_q, heads * hd);
            RoundIfBFloat16(_k, kvHeads * hd);
            RoundIfBFloat16(_v, kvHeads * hd);
            Mark(profile, DecodePhase.QkvProjection, ref t);

            DecodeMath.Rope(_q, heads, hd, _cos, _sin, _bf16);
            DecodeMath.Rope(_k, kvHeads, hd, _cos, _sin, _bf16);
            byte* keys = (byte*)TensorData.Pointer(cache.KeyBuffer(l));
            byte* values = (byte*)TensorData.Pointer(cache.ValueBuffer(l));
            for (int kv = 0; kv < kvHeads; kv++)
            {
                long offset = (((kv * cache.Capacity) + slot) * hd) * elementSize;   // [1, kv, capacity, hd]
                DecodeMath.Store(_k + (kv * hd), keys + offset, _bf16, hd);
                DecodeMath.Store(_v + (kv * hd), values + offset, _bf16, hd);
            }

            Mark(profile, DecodePhase.Rope, ref t);

            _workers.Run(_attention, _attention.Prepare(_q, keys, values, cache.Capacity, _bf16, (int)slot + 1, threads));
            _attention.MergeInto(_attn);
            RoundIfBFloat16(_attn, heads * hd);
            Mark(profile, DecodePhase.Attention, ref t);

            _workers.Run(_gemv, _gemv.Prepare(_attn, threads, (w.O, (nint)_o)));
            RoundIfBFloat16(_o, h);
            Mark(profile, DecodePhase.OutputProjection, ref t);

            DecodeMath.AddRmsNorm(_h, _o, w.PostNorm, _xn, h, eps, _bf16);
            Mark(profile, DecodePhase.Norm, ref t);

            _workers.Run(_gemv, _gemv.Prepare(_xn, threads, (w.Gate, (nint)_gate1), (w.Up, (nint)_up)));
            RoundIfBFloat16(_gate1, f);
            RoundIfBFloat16(_up, f);
            DecodeMath.SiluMul(_gate1, _up, f, _bf16);
            _workers.Run(_gemv, _gemv.Prepare(_gate1, threads, (w.Down, (nint)_down)));
            RoundIfBFloat16(_down, h);
            Mark(profile, DecodePhase.Mlp, ref t);
        }

        DecodeMath.AddRmsNorm(_h, _down, _finalNorm, _xn, h, eps, _bf16);
        Mark(profile, DecodePhase.Norm, ref t);
        _workers.Run(_gemv, _gemv.Prepare(_xn, threads, (_lmHead, (nint)logits)));
        RoundIfBFloat16(logits, _lmHead.Rows);
        Mark(profile, DecodePhase.LmHead, ref t);
        profile?.EndStep();
    }

    private void RoundIfBFloat16(float* v, int n)
    {
        if (_bf16)
        {
            DecodeMath.RoundAll(v, n);
        }
    }

    private static void Mark(DecodeProfile? profile, DecodePhase phase, ref long t)
    {
        if (profile is not null)
        {
            long now = Stopwatch.GetTimestamp();
            profile.Add(phase, now - t);
            t = now;
        }
    }

    private static WeightMatrix Matrix(Tensor weight) =>
        new(TensorData.Pointer(weight), checked((int)weight.shape[0]), checked((int)weight.shape[1]), weight.dtype == ScalarType.BFloat16);

    // A small float32 copy of a norm weight or inv_freq (kilobytes: the big matrices are never copied).
    private float* FloatCopy(Tensor t)
    {
        using Tensor f32 = t.to_type(ScalarType.Float32).contiguous();
        float* v = Alloc(f32.NumberOfElements);
        new ReadOnlySpan<float>(TensorData.Pointer(f32), (int)f32.NumberOfElements).CopyTo(new Span<float>(v, (int)f32.NumberOfElements));
        return v;
    }

    private float* Alloc(long count)
    {
        void* p = NativeMemory.AlignedAlloc((nuint)(Math.Max(1, count) * sizeof(float)), 64);
        _allocations.Add((nint)p);
        return (float*)p;
    }

    /// <summary>Stops the worker threads and frees the activation buffers.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _workers.Dispose();
            foreach (nint p in _allocations)
            {
                NativeMemory.AlignedFree((void*)p);
            }
        }
    }

    private readonly struct LayerWeights(
        WeightMatrix q, WeightMatrix k, WeightMatrix v, WeightMatrix o, WeightMatrix gate, WeightMatrix up, WeightMatrix down, float* inputNorm, float* postNorm)
    {
        public readonly WeightMatrix Q = q, K = k, V = v, O = o, Gate = gate, Up = up, Down = down;
        public readonly float* InputNorm = inputNorm, PostNorm = postNorm;
    }
}
