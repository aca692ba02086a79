using Idefics3.Checkpoints;
using Idefics3.Configuration;
using Idefics3.Modeling.FastDecode;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>
/// An Idefics3 / SmolVLM model loaded from a Hugging Face folder (config.json + safetensors): vision tower, connector
/// and Llama decoder, numerically equivalent to transformers' <c>Idefics3ForConditionalGeneration</c>. Every method runs
/// under <c>torch.inference_mode</c> in its own dispose scope; returned tensors belong to the caller. Instances are not
/// thread-safe for concurrent calls that share a <see cref="KvCache"/>; the weights themselves are read-only.
/// </summary>
internal sealed class Idefics3ForConditionalGeneration : IDisposable
{
    private readonly Idefics3CausalLM _module;
    private readonly ModelLoadOptions _options;
    private readonly object _fastDecodeGate = new();
    private FastDecoder? _fastDecoder;
    private readonly MappedWeightFiles _mappedFiles;
    private bool _fastDecodeChecked;
    private bool _disposed;

    private Idefics3ForConditionalGeneration(Idefics3Config config, Idefics3CausalLM module, ModelLoadOptions options, Device device, MappedWeightFiles mappedFiles)
    {
        Config = config;
        _module = module;
        _options = options;
        Device = device;
        _mappedFiles = mappedFiles;
    }

    /// <summary>Gets the model configuration.</summary>
    public Idefics3Config Config { get; }

    /// <summary>Gets the compute dtype of weights and activations (logits are always float32).</summary>
    public ScalarType Dtype => _options.Dtype;

    /// <summary>Gets the device the weights live on.</summary>
    public Device Device { get; }

    internal Idefics3CausalLM Module => _module;

    /// <summary>
    /// Gets or sets a value indicating whether single-token decode steps run on the C# kernels of
    /// <see cref="FastDecoder"/> (on by default where supported: CPU, float32 or bfloat16, AVX2/AVX-512) instead of
    /// libtorch. Off: every step runs on libtorch (A/B measurement, tests). CUDA always uses libtorch.
    /// </summary>
    internal bool UseFastDecode { get; set; } = true;

    /// <summary>Gets or sets the threads of the fast decode step (null: the CPU count, at most libtorch's thread count); set before the first step.</summary>
    internal int? FastDecodeThreads { get; set; }

    /// <summary>Gets the fast decode step, created on first use, or null where the model does not support it.</summary>
    internal FastDecoder? FastDecode
    {
        get
        {
            lock (_fastDecodeGate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (!_fastDecodeChecked)
                {
                    _fastDecodeChecked = true;
                    if (FastDecoder.IsSupported(_module, Config.Text, Dtype, Device))
                    {
                        int threads = FastDecodeThreads ?? Math.Max(1, Math.Min(Environment.ProcessorCount, torch.get_num_threads()));
                        _fastDecoder = FastDecoder.Create(_module, Config.Text, Dtype, threads);
                    }
                }

                return _fastDecoder;
            }
        }
    }

    /// <summary>
    /// Loads a model folder. Modules are constructed directly around the checkpoint tensors (no random
    /// initialisation); with matching dtypes on CPU the weights are zero-copy views of memory-mapped files.
    /// </summary>
    /// <param name="modelFolder">A folder with config.json and model.safetensors (or a sharded index).</param>
    /// <param name="options">Dtype and device; defaults to float32 on CPU.</param>
    /// <returns>The loaded model.</returns>
    /// <exception cref="ConfigurationException">config.json is missing or invalid.</exception>
    /// <exception cref="CheckpointException">The weights are corrupt or do not fit the config.</exception>
    public static Idefics3ForConditionalGeneration Load(string modelFolder, ModelLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(modelFolder);
        Idefics3Config config = Idefics3Config.Load(modelFolder);
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(modelFolder);
        checkpoint.ReadIntoMemory = options?.ReadWeightsIntoMemory == true && (options.DeviceType == DeviceType.CPU);
        return Load(config, checkpoint, options);
    }

    /// <summary>Builds a model from a parsed config and an open checkpoint (the checkpoint may be disposed afterwards).</summary>
    /// <param name="config">The configuration.</param>
    /// <param name="checkpoint">The weights.</param>
    /// <param name="options">Dtype and device.</param>
    /// <returns>The loaded model.</returns>
    /// <exception cref="CheckpointException">The weights do not fit the config.</exception>
    public static Idefics3ForConditionalGeneration Load(Idefics3Config config, SafetensorsCheckpoint checkpoint, ModelLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(checkpoint);
        options ??= new ModelLoadOptions();
        if (options.Dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
        {
            throw new ArgumentException($"unsupported compute dtype {options.Dtype}; use Float32 or BFloat16", nameof(options));
        }

        if (options.VisionChunkSize <= 0)
        {
            throw new ArgumentException("VisionChunkSize must be positive", nameof(options));
        }

        var device = new Device(options.DeviceType, options.DeviceIndex);
        var source = new CheckpointWeightSource(checkpoint, options.Dtype, device);
        var module = new Idefics3CausalLM(source, config, device);
        MappedWeightFiles mappedFiles;
        try
        {
            source.ThrowIfIncomplete(config.TieWordEmbeddings ? ["lm_head.weight"] : []);
            mappedFiles = new MappedWeightFiles(source.MappedFiles);
        }
        catch
        {
            module.Dispose();
            throw;
        }

        return new Idefics3ForConditionalGeneration(config, module, options, device, mappedFiles);
    }

    /// <summary>Creates an empty KV cache for <paramref name="batch"/> rows and up to <paramref name="capacity"/> positions.</summary>
    /// <param name="batch">The batch size.</param>
    /// <param name="capacity">The maximum sequence length (prompt + generated tokens).</param>
    /// <returns>The cache; the caller disposes it.</returns>
    public KvCache CreateCache(long batch, long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        TextConfig t = Config.Text;
        return new KvCache(t.NumHiddenLayers, batch, t.NumKeyValueHeads, capacity, t.HeadDim, Dtype, Device);
    }

    /// <summary>
    /// Runs the vision tower and connector on image frames. All-zero frames (padding slots) are dropped, as in HF.
    /// Frames go through in chunks of <see cref="ModelLoadOptions.VisionChunkSize"/>; cancellation is checked between chunks.
    /// </summary>
    /// <param name="pixelValues">Normalised pixels [N, 3, H, W] or [B, N, 3, H, W], any float dtype.</param>
    /// <param name="pixelAttentionMask">Valid-pixel mask [N, H, W] or [B, N, H, W] (bool or integer), or null for all valid.</param>
    /// <param name="cancellationToken">Cancels between chunks.</param>
    /// <returns>Image features [frames, image_seq_len, text_hidden] in the compute dtype, real frames in input order.</returns>
    public Tensor EncodeImages(Tensor pixelValues, Tensor? pixelAttentionMask = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var mode = torch.inference_mode();
        using var scope = torch.NewDisposeScope();
        (Tensor pixels, Tensor mask) = RealFrames(pixelValues, pixelAttentionMask);
        var chunks = new List<Tensor>();
        long frames = pixels.shape[0];
        for (long start = 0; start < frames; start += _options.VisionChunkSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long count = Math.Min(_options.VisionChunkSize, frames - start);
            using var chunkScope = torch.NewDisposeScope();
            Tensor hidden = _module.model.vision_model.forward(pixels.narrow(0, start, count), mask.narrow(0, start, count));
            chunks.Add(_module.model.connector.forward(hidden).MoveToOuterDisposeScope());
        }

        Tensor result = chunks.Count == 1 ? chunks[0] : torch.cat(chunks, 0);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Patch mask [F, N, N] and vision position ids [F, N²] of the real frames (for tests and diagnostics).</summary>
    internal (Tensor PatchMask, Tensor PositionIds) VisionPositions(Tensor pixelValues, Tensor? pixelAttentionMask)
    {
        using var mode = torch.inference_mode();
        using var scope = torch.NewDisposeScope();
        (_, Tensor mask) = RealFrames(pixelValues, pixelAttentionMask);
        Tensor patchMask = VisionPositionIds.PatchMask(mask, Config.Vision.PatchSize, Config.Vision.PatchesPerSide);
        Tensor ids = VisionPositionIds.Compute(patchMask);
        scope.MoveToOuter(patchMask, ids);
        return (patchMask, ids);
    }

    /// <summary>Pixels [F, C, H, W] and mask [F, H, W] of the real frames (all-zero padding frames dropped), in the compute dtype.</summary>
    internal (Tensor Pixels, Tensor Mask) RealFrames(Tensor pixelValues, Tensor? pixelAttentionMask)
    {
        ArgumentNullException.ThrowIfNull(pixelValues);
        if (pixelValues.dim() is not (4 or 5))
        {
            throw new ArgumentException($"pixel values must be [N, C, H, W] or [B, N, C, H, W], got [{string.Join(", ", pixelValues.shape)}]", nameof(pixelValues));
        }

        long h = pixelValues.shape[^2], w = pixelValues.shape[^1];
        Tensor pixels = pixelValues.reshape(-1, pixelValues.shape[^3], h, w).to(Dtype, Device);
        if (pixels.shape[1] != Config.Vision.NumChannels)
        {
            throw new ArgumentException($"pixel values have {pixels.shape[1]} channels; the model expects {Config.Vision.NumChannels}", nameof(pixelValues));
        }

        Tensor mask = pixelAttentionMask is null
            ? torch.ones([pixels.shape[0], h, w], ScalarType.Bool, Device)
            : pixelAttentionMask.reshape(-1, h, w).to(Device).Ne(0);
        if (mask.shape[0] != pixels.shape[0])
        {
            throw new ArgumentException($"pixel attention mask has {mask.shape[0]} frames, pixel values have {pixels.shape[0]}", nameof(pixelAttentionMask));
        }

        // a frame is padding iff every value is exactly 0.0; keep frame 0 if nothing is real (as newer HF does)
        Tensor real = pixels.Eq(0).flatten(1).logical_not().any(1);
        if (!real.any().item<bool>())
        {
            real[0] = torch.tensor(true);
        }

        if (real.all().item<bool>())
        {
            return (pixels, mask);
        }

        Tensor index = real.nonzero().flatten();
        return (pixels.index_select(0, index), mask.index_select(0, index));
    }

    /// <summary>Looks up token embeddings.</summary>
    /// <param name="inputIds">Token ids [B, T] (int64).</param>
    /// <returns>Embeddings [B, T, text_hidden] in the compute dtype.</returns>
    public Tensor EmbedTokens(Tensor inputIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var mode = torch.inference_mode();
        using var scope = torch.NewDisposeScope();
        return _module.model.text_model.embed_tokens.forward(inputIds.to(ScalarType.Int64, Device)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Writes image features, in order, over the embeddings of the <c>&lt;image&gt;</c> tokens (row-major over batch,
    /// then sequence), as HF does on the prefill pass.
    /// </summary>
    /// <param name="inputsEmbeds">Token embeddings [B, T, H].</param>
    /// <param name="inputIds">Token ids [B, T].</param>
    /// <param name="imageFeatures">Features [frames, image_seq_len, H] from <see cref="EncodeImages"/>.</param>
    /// <returns>A new embeddings tensor [B, T, H].</returns>
    /// <exception cref="ArgumentException">The number of <c>&lt;image&gt;</c> tokens differs from frames × image_seq_len.</exception>
    public Tensor MergeImageFeatures(Tensor inputsEmbeds, Tensor inputIds, Tensor imageFeatures)
    {
        ArgumentNullException.ThrowIfNull(inputsEmbeds);
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(imageFeatures);
        using var mode = torch.inference_mode();
        using var scope = torch.NewDisposeScope();
        Tensor slots = inputIds.to(Device).Eq(Config.ImageTokenId);          // [B, T]
        long slotCount = slots.sum().item<long>();
        long hidden = inputsEmbeds.shape[^1];
        Tensor rows = imageFeatures.reshape(-1, hidden);                        // [frames·S, H]
        if (slotCount != rows.shape[0])
        {
            throw new ArgumentException(
                $"the prompt has {slotCount} <image> tokens (id {Config.ImageTokenId}) but the images give {imageFeatures.shape[0]} frames x {(imageFeatures.dim() > 1 ? imageFeatures.shape[1] : 0)} = {rows.shape[0]} features",
                nameof(imageFeatures));
        }

        Tensor merged = inputsEmbeds.clone();
        merged.index_put_(rows.to(merged.dtype), TensorIndex.Tensor(slots));
        return merged.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs the decoder on new positions, appending their keys and values to <paramref name="cache"/>.
    /// </summary>
    /// <param name="inputsEmbeds">Embeddings of the new positions [B, T, H].</param>
    /// <param name="positionIds">RoPE positions [B, T] (see <see cref="PositionIdsFromAttentionMask"/> for left padding).</param>
    /// <param name="attentionMask">Mask over cached + new positions [B, cache.Length + T] (nonzero = attend), or null for no padding.</param>
    /// <param name="cache">The KV cache to read and extend, or null to run without one.</param>
    /// <param name="lastPositionOnly">When true, only the last position's logits are computed (prefill).</param>
    /// <returns>Float32 logits [B, T, vocab], or [B, 1, vocab] with <paramref name="lastPositionOnly"/>.</returns>
    public Tensor Forward(Tensor inputsEmbeds, Tensor positionIds, Tensor? attentionMask, KvCache? cache, bool lastPositionOnly)
    {
        ArgumentNullException.ThrowIfNull(inputsEmbeds);
        ArgumentNullException.ThrowIfNull(positionIds);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var mode = torch.inference_mode();
        if (UseFastDecode && inputsEmbeds.shape is [1, 1, _] && FastDecode?.TryForward(inputsEmbeds, positionIds, attentionMask, cache) is { } fast)
        {
            return fast;
        }

        using var scope = torch.NewDisposeScope();
        Tensor h = _module.model.text_model.forward(
            inputsEmbeds.to(Dtype, Device), positionIds.to(ScalarType.Int64, Device), attentionMask?.to(Device), cache);
        if (lastPositionOnly)
        {
            h = h.narrow(1, h.shape[1] - 1, 1);
        }

        return _module.lm_head.forward(h).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Position ids as HF <c>generate</c> derives them: cumsum(mask) − 1, with padded positions set to 1.</summary>
    /// <param name="attentionMask">Mask [B, T] (nonzero = real token).</param>
    /// <returns>Int64 positions [B, T].</returns>
    public static Tensor PositionIdsFromAttentionMask(Tensor attentionMask)
    {
        ArgumentNullException.ThrowIfNull(attentionMask);
        using var mode = torch.inference_mode();
        using var scope = torch.NewDisposeScope();
        Tensor m = attentionMask.to_type(ScalarType.Int64);
        return m.cumsum(-1).Sub(1L).MaskedFill(m.Eq(0), 1L).MoveToOuterDisposeScope();
    }

    /// <summary>Frees the weights (memory maps are released once no tensor uses them).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        lock (_fastDecodeGate)
        {
            _disposed = true;
            _fastDecoder?.Dispose();
        }

        _module.Dispose();
        _module.model.text_model.Rope.Dispose();
        _mappedFiles.Dispose();
    }

    /// <summary>
    /// Throws when a weight file the model reads through its memory map was truncated or written since it was mapped
    /// (reading it then could kill the process with SIGBUS or give other answers); cheap enough for every request.
    /// </summary>
    /// <exception cref="CheckpointException">A mapped weight file changed on disk.</exception>
    internal void ThrowIfWeightsChanged() => _mappedFiles.ThrowIfChanged();

    /// <summary>Gets the number of weight files the model reads through memory maps.</summary>
    internal int MappedFileCount => _mappedFiles.Count;
}
