using System.Diagnostics;
using System.Runtime.CompilerServices;
using Idefics3.Caching;
using Idefics3.Configuration;
using Idefics3.Engine;
using Idefics3.Generation;
using Idefics3.Modeling;
using Idefics3.Processing;
using Idefics3.Runtime;
using Idefics3.StructuredOutput;
using Idefics3.Tokenization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3;

/// <summary>
/// A loaded Idefics3 / SmolVLM model with its processor: the engine behind both chat surfaces. It is immutable once
/// loaded and safe to call from many threads; each request gets its own KV cache, sampler and detokenizer, and a
/// scheduler bounds how many run at once. Image features and prompt KV caches are cached across requests.
/// </summary>
public sealed partial class Idefics3Engine : IDisposable, IAsyncDisposable
{
    private readonly RequestScheduler _scheduler;
    private readonly PromptAdmission _admission;
    private readonly DecodeServices _services;
    private readonly EngineMetrics _metrics;
    private readonly HashSet<int> _endOfSequence;
    private readonly StructuredOutputResources _structuredOutput;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Lock _lifetime = new();
    private bool _disposed;
    private int _inFlight;

    private Idefics3Engine(
        string modelPath,
        string modelId,
        Idefics3EngineOptions options,
        Idefics3ForConditionalGeneration network,
        Idefics3Processor processor,
        GenerationConfig? generationConfig,
        ILogger logger)
    {
        ModelPath = modelPath;
        ModelId = modelId;
        Options = options;
        Network = network;
        Processor = processor;
        GenerationConfig = generationConfig;
        _logger = logger;
        _metrics = new EngineMetrics(options.MeterFactory, modelId);
        _scheduler = new RequestScheduler(options.MaxConcurrentRequests, options.QueueCapacity, options.QueueTimeout);
        _admission = new PromptAdmission(options.MaxConcurrentRequests, _metrics);
        // As Hugging Face's generate: the generation config is the one source of end-of-sequence ids (config.json only
        // when the model has no generation_config.json). Not text_config's eos (SmolVLM: <|im_end|>, which the model
        // may write inside an answer) and no token looked up by name. Callers add their own with StopTokenIds.
        _endOfSequence = [.. (generationConfig ?? GenerationConfig.FromModelConfig(network.Config)).EosTokenIds];

        _services = DecodeServices.Create(network, processor.Tokenizer, _endOfSequence, modelPath, options, _metrics, logger);
        _structuredOutput = new StructuredOutputResources(Tokenizer, _endOfSequence);
        _metrics.ModelLoaded(+1);
    }

    /// <summary>
    /// The name of the <see cref="System.Diagnostics.Metrics.Meter"/> the engine reports on (requests, tokens, cache hits,
    /// active decodes; every measurement tagged <c>idefics3.model</c>): subscribe with OpenTelemetry's
    /// <c>AddMeter("Idefics3")</c> or <c>dotnet-counters monitor --counters Idefics3</c>. See docs/metrics.md.
    /// </summary>
    public const string MeterName = "Idefics3";

    /// <summary>Gets the folder the model was loaded from.</summary>
    public string ModelPath { get; }

    /// <summary>Gets the model id reported to callers (the hub repository id, or the folder name).</summary>
    public string ModelId { get; }

    /// <summary>Gets the options the engine was loaded with (a private copy).</summary>
    public Idefics3EngineOptions Options { get; }

    /// <summary>Gets the model configuration.</summary>
    public Idefics3Config Config => Network.Config;

    /// <summary>Gets the generation configuration (<c>generation_config.json</c>), when the model has one.</summary>
    public GenerationConfig? GenerationConfig { get; }

    /// <summary>Gets the processor: tokenizer, chat template and image processor.</summary>
    public Idefics3Processor Processor { get; }

    /// <summary>Gets the tokenizer.</summary>
    public HuggingFaceTokenizer Tokenizer => Processor.Tokenizer;

    /// <summary>Gets the model's context window in tokens (prompt plus output).</summary>
    public int ContextWindow => Network.Config.Text.MaxPositionEmbeddings;

    /// <summary>
    /// Gets the end-of-sequence token ids that stop generation: the <c>eos_token_id</c> of generation_config.json, as
    /// Hugging Face's <c>generate</c> (config.json's when that file is absent). <see cref="GenerationOptions.StopTokenIds"/> adds more per request.
    /// </summary>
    public IReadOnlySet<int> EndOfSequenceTokenIds => _endOfSequence;

    /// <summary>Gets the compute dtype.</summary>
    public ScalarType DType => Network.Dtype;

    /// <summary>Gets the device the model runs on.</summary>
    public string DeviceName => Network.Device.ToString();

    internal Idefics3ForConditionalGeneration Network { get; }

    /// <summary>
    /// Loads a model from a local folder in Hugging Face layout, or from the Hugging Face hub cache (downloading what is missing) (config, tokenizer, chat template, processor settings,
    /// safetensors weights). Weights are memory-mapped; bfloat16 checkpoints run in bfloat16 without a copy.
    /// </summary>
    /// <param name="modelPath">The model folder, or a Hugging Face hub repository id (<c>org/name</c> or <c>org/name@revision</c>), which is downloaded into the hub cache on first use.</param>
    /// <param name="options">Load and runtime options; validated here.</param>
    /// <param name="progress">Receives progress reports.</param>
    /// <param name="loggerFactory">Creates the engine's logger.</param>
    /// <param name="cancellationToken">Cancels loading.</param>
    /// <returns>The loaded engine.</returns>
    /// <exception cref="ConfigurationException">A configuration file is missing or invalid.</exception>
    /// <exception cref="Checkpoints.CheckpointException">The weights are missing, corrupt or do not match the configuration.</exception>
    /// <exception cref="InsufficientMemoryException">The weights cannot fit in the available memory.</exception>
    public static async Task<Idefics3Engine> LoadAsync(
        string modelPath,
        Idefics3EngineOptions? options = null,
        IProgress<ModelLoadProgress>? progress = null,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        Idefics3EngineOptions opts = options?.Clone() ?? new Idefics3EngineOptions();
        opts.Validate();
        ILogger logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Idefics3Engine>();
        string folder = modelPath;
        if (!Directory.Exists(modelPath))
        {
            if (!Hub.HubRepoReference.TryParse(modelPath, out Hub.HubRepoReference? repo) || modelPath.StartsWith('.') || Path.IsPathRooted(modelPath))
            {
                throw new DirectoryNotFoundException($"Model folder '{modelPath}' does not exist (and it is not a Hugging Face repository id like 'org/name').");
            }

            progress?.Report(new ModelLoadProgress("download", 0.0, $"Resolving {repo}"));
            var downloadProgress = progress is null ? null : new Progress<Hub.DownloadProgress>(p =>
                progress.Report(new ModelLoadProgress("download", p.TotalBytes > 0 ? 0.9 * p.TotalBytesDownloaded / p.TotalBytes : 0, $"Downloading {p.FileName}")));
            using var resolver = new Hub.HubModelResolver(logger);
            folder = await resolver.ResolveAsync(repo, opts.Hub, downloadProgress, cancellationToken).ConfigureAwait(false);
            opts.ModelId ??= repo.RepoId;
        }

        return await Task.Run(() => Load(Path.GetFullPath(folder), opts, progress, logger, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private static Idefics3Engine Load(string modelPath, Idefics3EngineOptions options, IProgress<ModelLoadProgress>? progress, ILogger logger, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        TorchRuntime.EnsureLoaded();
        if (options.Threads is int threads)
        {
            torch.set_num_threads(threads);
        }

        progress?.Report(new ModelLoadProgress("configuration", 0.05, "Reading configuration"));
        Idefics3Config config = Idefics3Config.Load(Path.Combine(modelPath, Idefics3Config.FileName));
        GenerationConfig? generationConfig = GenerationConfig.LoadIfPresent(modelPath);
        cancellationToken.ThrowIfCancellationRequested();

        progress?.Report(new ModelLoadProgress("processor", 0.1, "Loading tokenizer, chat template and image processor"));
        Idefics3Processor processor = Idefics3Processor.FromDirectory(modelPath);
        config.ValidateImageSeqLen(processor.ProcessorConfig.ImageSeqLen);
        config.ValidateTileSize(processor.PreprocessorConfig.TileSize, File.Exists(Path.Combine(modelPath, PreprocessorConfig.FileName)));
        cancellationToken.ThrowIfCancellationRequested();

        (DeviceType deviceType, int deviceIndex) = DeviceSelection.ResolveDevice(options.Device);
        ScalarType dtype = DeviceSelection.ResolveDType(options.DType, deviceType);
        if (options.CheckMemoryBeforeLoading)
        {
            MemoryEstimate.ThrowIfTooLarge(modelPath, dtype, deviceType);
        }

        progress?.Report(new ModelLoadProgress("weights", 0.2, $"Mapping weights ({dtype} on {deviceType})"));
        var network = Idefics3ForConditionalGeneration.Load(modelPath, new ModelLoadOptions
        {
            Dtype = dtype,
            DeviceType = deviceType,
            DeviceIndex = deviceIndex,
            VisionChunkSize = options.VisionChunkFrames,
            ReadWeightsIntoMemory = options.LoadWeightsIntoMemory,
        });
        try
        {
            NormWeightCheck.ThrowIfNotFinite(network.Module, modelPath);
        }
        catch
        {
            network.Dispose();
            throw;
        }

        string modelId = options.ModelId ?? ModelIdFromPath(modelPath);
        var engine = new Idefics3Engine(modelPath, modelId, options, network, processor, generationConfig, logger);
        LogLoaded(logger, modelId, dtype, deviceType, sw.Elapsed.TotalMilliseconds);
        progress?.Report(new ModelLoadProgress("ready", 1.0, "Model ready"));
        return engine;
    }

    /// <summary>
    /// Generates a reply to <paramref name="conversation"/> and returns it when complete.
    /// </summary>
    /// <param name="conversation">The messages, in order; images sit where they appear among the text.</param>
    /// <param name="options">Sampling, length and stop options; null for greedy decoding with the default length.</param>
    /// <param name="processing">Image processing options; null for the checkpoint's settings.</param>
    /// <param name="cancellationToken">Cancels the request, in the queue or while it runs.</param>
    /// <returns>The generated text, token ids, finish reason, usage and timings.</returns>
    /// <exception cref="ContextWindowExceededException">The prompt plus the requested output does not fit.</exception>
    /// <exception cref="Checkpoints.CheckpointException">A memory-mapped weight file was truncated or written since the model was loaded.</exception>
    /// <exception cref="OperationCanceledException">The request was cancelled.</exception>
    public async Task<GenerationResult> GenerateAsync(
        IReadOnlyList<PromptMessage> conversation,
        GenerationOptions? options = null,
        ProcessorOptions? processing = null,
        CancellationToken cancellationToken = default)
    {
        var text = new System.Text.StringBuilder();
        var outputIds = new List<int>();
        var logProbs = new List<TokenLogProb>();
        GenerationUpdate? last = null;
        await foreach (GenerationUpdate update in GenerateStreamingAsync(conversation, options, processing, cancellationToken).ConfigureAwait(false))
        {
            text.Append(update.Text);
            outputIds.AddRange(update.TokenIds);
            if (update.LogProbs is not null)
            {
                logProbs.AddRange(update.LogProbs);
            }

            last = update;
        }

        if (last?.FinishReason is not FinishReason finish)
        {
            throw new InvalidOperationException("Generation ended without a final update.");
        }

        return new GenerationResult
        {
            Text = text.ToString(),
            InputIds = last.InputIds ?? [],
            OutputIds = outputIds,
            FinishReason = finish,
            StopSequence = last.StopSequence,
            Usage = last.Usage!,
            Timings = last.Timings!,
            LogProbs = options?.LogProbs == true ? logProbs : null,
            Seed = last.Seed ?? 0,
            ConstraintSatisfied = last.ConstraintSatisfied,
        };
    }

    /// <summary>
    /// Generates a reply to <paramref name="conversation"/>, yielding text deltas as tokens are produced. Generation runs
    /// on a worker thread, so the caller is never blocked; abandoning the enumeration cancels it.
    /// </summary>
    /// <param name="conversation">The messages, in order; images sit where they appear among the text.</param>
    /// <param name="options">Sampling, length and stop options; null for greedy decoding with the default length.</param>
    /// <param name="processing">Image processing options; null for the checkpoint's settings.</param>
    /// <param name="cancellationToken">Cancels the request, in the queue or while it runs.</param>
    /// <returns>The updates; the last one carries the finish reason, usage and timings.</returns>
    /// <exception cref="ContextWindowExceededException">The prompt plus the requested output does not fit.</exception>
    /// <exception cref="Checkpoints.CheckpointException">A memory-mapped weight file was truncated or written since the model was loaded.</exception>
    public async IAsyncEnumerable<GenerationUpdate> GenerateStreamingAsync(
        IReadOnlyList<PromptMessage> conversation,
        GenerationOptions? options = null,
        ProcessorOptions? processing = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        GenerationOptions generation = options ?? GenerationOptions.Default;
        Enter();
        _metrics.RequestStarted();
        try
        {
            // A weight file changed under the memory map would crash the process (SIGBUS) or change the answers.
            Network.ThrowIfWeightsChanged();

            // Disposing the engine cancels running requests; the weights are freed when the last one has left.
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
            await foreach (GenerationUpdate update in GenerateCoreAsync(conversation, generation, processing, linked.Token).ConfigureAwait(false))
            {
                yield return update;
            }
        }
        finally
        {
            Leave();
        }
    }

    private async IAsyncEnumerable<GenerationUpdate> GenerateCoreAsync(
        IReadOnlyList<PromptMessage> conversation,
        GenerationOptions generation,
        ProcessorOptions? processing,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {

        // Admission before work: the context window is checked on the token count taken from the image headers (no pixel
        // decoded), then the images are decoded and tiled (on a pool thread: CPU work) under the admission gate, so a
        // request that cannot fit costs nothing and concurrent requests never decode more than the gate allows at once.
        ProcessorOptions? admitted = await Task.Run(() => Admit(conversation, processing, generation), cancellationToken).ConfigureAwait(false);
        PreparedPrompt prompt = await _admission.DecodeAsync(() => Prepare(conversation, admitted, generation), cancellationToken).ConfigureAwait(false);

        try
        {
            int maxNew = PromptAdmission.BudgetOutput(prompt.InputIds.Length, prompt.ImageTokens, generation, ContextWindow);
            var queued = Stopwatch.StartNew();
            IAsyncEnumerable<GenerationUpdate> updates = _scheduler.RunStreamingAsync(
                token =>
                {
                    var session = new GenerationSession(_services, prompt, generation, maxNew, queued.Elapsed.TotalMilliseconds);
                    return DedicatedProducer.StreamAsync<GenerationUpdate>((emit, ct) => RunSession(session, emit, ct), GenerationDefaults.StreamBufferCapacity, token);
                },
                cancellationToken);
            await foreach (GenerationUpdate update in updates.ConfigureAwait(false))
            {
                if (update.Usage is { } usage)
                {
                    _metrics.RequestFinished(usage.InputTokens, usage.OutputTokens);
                }

                yield return update;
            }
        }
        finally
        {
            prompt.Dispose();
        }
    }

    /// <summary>Runs one request's session on its dedicated thread, counted in <c>idefics3.decodes.active</c>.</summary>
    private void RunSession(GenerationSession session, Action<GenerationUpdate> emit, CancellationToken cancellationToken)
    {
        _metrics.Decoding(+1);
        try
        {
            session.Run(emit, cancellationToken);
        }
        finally
        {
            _metrics.Decoding(-1);
        }
    }

    /// <summary>
    /// Counts the prompt tokens a conversation needs (images included) without running the model, so a caller can budget
    /// the context before any compute.
    /// </summary>
    /// <param name="conversation">The messages.</param>
    /// <param name="processing">Image processing options.</param>
    /// <returns>The token account: total, text and image tokens, tiles per image.</returns>
    public TokenAccount CountTokens(IReadOnlyList<PromptMessage> conversation, ProcessorOptions? processing = null)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        return Processor.CountTokens(conversation, processing);
    }

    /// <summary>Drops every cached image feature and prompt KV cache.</summary>
    public void ClearCaches()
    {
        _services.VisionFeatures.Clear();
        _services.PrefixCache.Clear();
    }

    /// <summary>
    /// Stops accepting requests and cancels the running ones (they end with an <see cref="OperationCanceledException"/>).
    /// The model's memory is freed at once when nothing runs, otherwise when the last running request has left; this
    /// call never waits, so it is safe inside a loop that consumes a stream of this engine.
    /// </summary>
    public void Dispose()
    {
        bool idle;
        lock (_lifetime)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            idle = _inFlight == 0;
        }

        _shutdown.Cancel();
        if (idle)
        {
            ReleaseResources();
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Turns a conversation into model inputs: token ids, pixels on the host, image keys, the request's constraint.</summary>
    internal PreparedPrompt Prepare(IReadOnlyList<PromptMessage> conversation, ProcessorOptions? processing, GenerationOptions generation)
    {
        ProcessorOptions options = processing ?? new ProcessorOptions();
        ProcessedPrompt processed = Processor.Process(conversation, options);
        int[] ids = processed.InputIds;
        ITokenConstraint? constraint = RequestConstraints.Create(generation, _structuredOutput);
        if (processed.PixelValues is null || processed.PixelValuesShape is null)
        {
            return new PreparedPrompt { InputIds = ids, Images = [], Constraint = constraint };
        }

        long[] shape = Array.ConvertAll(processed.PixelValuesShape, static d => (long)d);       // [frames, 3, H, W]

        Tensor pixels = torch.tensor(processed.PixelValues, shape);
        Tensor? mask = null;
        if (processed.PixelAttentionMask is not null)
        {
            // The byte tensor is a temporary: held and disposed here, never left to the finalizer during the conversion.
            using Tensor bytes = torch.tensor(processed.PixelAttentionMask, [shape[0], shape[2], shape[3]]);
            mask = bytes.to(ScalarType.Bool);
        }
        // One image key for both caches: content hash plus every setting that changes the pixels (alpha handling included).
        string settings = Processor.SettingsFor(options).CacheKey;
        var images = new List<PreparedImage>(processed.Images.Count);
        int frame = 0;
        foreach (PromptImageInfo image in processed.Images)
        {
            images.Add(new PreparedImage($"{image.ContentHash}|{settings}", frame, image.FrameCount, image.FrameCount * Config.ImageSeqLen));
            frame += image.FrameCount;
        }

        return new PreparedPrompt { InputIds = ids, PixelValues = pixels, PixelAttentionMask = mask, Images = images, Constraint = constraint };
    }

    private void Enter()
    {
        lock (_lifetime)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _inFlight++;
        }
    }

    private void Leave()
    {
        bool release;
        lock (_lifetime)
        {
            release = --_inFlight == 0 && _disposed;
        }

        if (release)
        {
            ReleaseResources();
        }
    }

    private void ReleaseResources()
    {
        _services.Dispose();
        Network.Dispose();
        _shutdown.Dispose();
        _admission.Dispose();
        _ = NativeHeap.TrimFreedMemory(); // the request threads' malloc arenas keep freed activations resident otherwise
        _metrics.ModelLoaded(-1);
        LogReleased(_logger, ModelId);
    }

    /// <summary>
    /// Counts the prompt from the image headers and returns the processing options it will be prepared with: the caller's,
    /// or one frame per image when <see cref="Idefics3EngineOptions.ReduceImageDetailToFit"/> allows it and only that
    /// fits; throws <see cref="ContextWindowExceededException"/> when nothing fits.
    /// </summary>
    private ProcessorOptions? Admit(IReadOnlyList<PromptMessage> conversation, ProcessorOptions? processing, GenerationOptions generation)
    {
        TokenAccount account = Processor.CountTokens(conversation, processing);
        if (PromptAdmission.Fits(account.TotalTokens, generation, ContextWindow))
        {
            return processing;
        }

        if (Options.ReduceImageDetailToFit && account.FramesPerImage.Count > 0 && processing?.DoImageSplitting != false)
        {
            ProcessorOptions single = (processing ?? new ProcessorOptions()) with { DoImageSplitting = false };
            TokenAccount reduced = Processor.CountTokens(conversation, single);
            if (PromptAdmission.Fits(reduced.TotalTokens, generation, ContextWindow))
            {
                LogReducedDetail(_logger, account.TotalTokens, reduced.TotalTokens, ContextWindow);
                return single;
            }

            account = reduced;
        }

        throw PromptAdmission.Exceeded(account.TotalTokens, account.ImageTokens, generation, ContextWindow);
    }

    /// <summary>
    /// The model id an engine loaded from <paramref name="model"/> with <paramref name="options"/> reports, known before
    /// loading: the option, else the repository id of a hub model, else the folder's name (or its hub snapshot's repository).
    /// </summary>
    internal static string ModelIdOf(string model, Idefics3EngineOptions options)
    {
        if (options.ModelId is { } id)
        {
            return id;
        }

        if (Directory.Exists(model))
        {
            return ModelIdFromPath(Path.GetFullPath(model));
        }

        return Hub.HubRepoReference.TryParse(model, out Hub.HubRepoReference? repo) ? repo.RepoId : model;
    }

    private static string ModelIdFromPath(string modelPath)
    {
        // A Hugging Face hub snapshot: .../models--org--name/snapshots/<commit> → org/name.
        string? snapshots = Path.GetDirectoryName(modelPath);
        string? repo = snapshots is null ? null : Path.GetDirectoryName(snapshots);
        string? repoName = repo is null ? null : Path.GetFileName(repo);
        if (snapshots is not null && Path.GetFileName(snapshots) == "snapshots" && repoName is not null &&
            repoName.StartsWith("models--", StringComparison.Ordinal))
        {
            string[] parts = repoName["models--".Length..].Split("--");
            return string.Join('/', parts);
        }

        return Path.GetFileName(modelPath.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Loaded {ModelId} ({DType} on {Device}) in {Milliseconds:F0} ms")]
    private static partial void LogLoaded(ILogger logger, string modelId, ScalarType dType, DeviceType device, double milliseconds);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Freed the memory of {ModelId}")]
    private static partial void LogReleased(ILogger logger, string modelId);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "The prompt needed {TiledTokens} tokens with image tiles, more than the context window of {ContextWindow}; images were sent as one frame each ({Tokens} tokens)")]
    private static partial void LogReducedDetail(ILogger logger, int tiledTokens, int tokens, int contextWindow);
}
