using System.Diagnostics.Metrics;
using Idefics3.Engine;
using Idefics3.Generation;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3;

/// <summary>Options for loading and running a model with <see cref="Idefics3Engine"/>. Validated when the engine loads.</summary>
public sealed class Idefics3EngineOptions
{
    /// <summary>Gets or sets the device: <c>auto</c> (CUDA when available, else CPU), <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Gets or sets the compute dtype (see <see cref="ModelDType"/>).</summary>
    public ModelDType DType { get; set; } = ModelDType.Auto;

    /// <summary>
    /// Gets or sets the number of CPU threads for libtorch. Null leaves libtorch's default (one per core). Setting it
    /// changes libtorch's process-wide thread pool, so it is only applied when you set it.
    /// </summary>
    public int? Threads { get; set; }

    /// <summary>Gets or sets how many requests run at once (default 1: requests queue and run in turn).</summary>
    public int MaxConcurrentRequests { get; set; } = GenerationDefaults.MaxConcurrency;

    /// <summary>Gets or sets how many requests may wait for a free slot before new ones are refused.</summary>
    public int QueueCapacity { get; set; } = GenerationDefaults.QueueCapacity;

    /// <summary>Gets or sets how long a request may wait in the queue before it fails with a <see cref="TimeoutException"/>; null waits forever.</summary>
    public TimeSpan? QueueTimeout { get; set; }

    /// <summary>Gets or sets the memory for cached vision features, keyed by image content and preprocessing (default 512 MiB; 0 disables).</summary>
    public long VisionCacheBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Gets or sets the memory for reusable KV caches of earlier prompts (default 1 GiB; 0 disables prefix reuse).</summary>
    public long PrefixCacheBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Gets or sets the number of prompt tokens prefilled per step (cancellation is checked between steps).</summary>
    public int PrefillChunkTokens { get; set; } = 512;

    /// <summary>Gets or sets the number of image frames encoded per step (cancellation is checked between steps).</summary>
    public int VisionChunkFrames { get; set; } = 4;

    /// <summary>
    /// Gets or sets a value indicating whether a prompt whose images make it too long for the context window is retried
    /// with one frame per image (image splitting off: 64-169 tokens per image instead of up to 17 times that) before a
    /// <see cref="ContextWindowExceededException"/> is thrown. Off by default: the caller decides whether detail may be lost.
    /// </summary>
    public bool ReduceImageDetailToFit { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether weights on the CPU are read into the process's memory at load (advised as
    /// transparent huge pages) instead of being memory-mapped from the files. Off by default: mapping loads at once, shares
    /// the page cache between processes and only touches what is used. On: loading reads the whole checkpoint, resident
    /// memory is the same once every weight has been used (decode reads all of them per token), the files may change or go
    /// away after the load, and decode streams the weights at the speed of anonymous memory, which on some machines (VMs
    /// whose page-cache pages are scattered) is several times faster: see docs/benchmarks.md. Ignored on GPU devices
    /// (weights are copied there anyway) and where a dtype conversion copies them at load.
    /// </summary>
    public bool LoadWeightsIntoMemory { get; set; }

    /// <summary>Gets or sets a value indicating whether loading fails fast when the weights cannot fit in memory.</summary>
    public bool CheckMemoryBeforeLoading { get; set; } = true;

    /// <summary>
    /// Gets or sets where and how a Hugging Face hub repository id is downloaded; null reads the standard environment
    /// variables (HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE).
    /// </summary>
    public Hub.HubOptions? Hub { get; set; }

    /// <summary>Gets or sets the model id reported to callers; by default the repository id or the folder name.</summary>
    public string? ModelId { get; set; }

    /// <summary>
    /// Gets or sets the factory of the engine's <see cref="Idefics3Engine.MeterName"/> meter (see docs/metrics.md); the
    /// DI registration sets the container's. Null: the library's shared meter of that name.
    /// </summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Checks the options and throws for invalid values.</summary>
    /// <exception cref="ArgumentException">A value is invalid; the parameter name is the option's.</exception>
    public void Validate()
    {
        _ = ParseDevice(Device);
        if (!Enum.IsDefined(DType))
        {
            throw new ArgumentOutOfRangeException(nameof(DType), DType, "Unknown dtype.");
        }

        if (Threads is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Must be positive.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConcurrentRequests, nameof(MaxConcurrentRequests));
        ArgumentOutOfRangeException.ThrowIfNegative(QueueCapacity, nameof(QueueCapacity));
        ArgumentOutOfRangeException.ThrowIfNegative(VisionCacheBytes, nameof(VisionCacheBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(PrefixCacheBytes, nameof(PrefixCacheBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PrefillChunkTokens, nameof(PrefillChunkTokens));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(VisionChunkFrames, nameof(VisionChunkFrames));
        if (QueueTimeout is { } t && t <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(QueueTimeout), QueueTimeout, "Must be positive.");
        }
    }

    /// <summary>
    /// Gets the dtype an engine computes in on a device type: an explicit <paramref name="dtype"/> as is; for
    /// <see cref="ModelDType.Auto"/>, bfloat16 on CUDA and on CPUs with native bfloat16 arithmetic, float32 elsewhere.
    /// </summary>
    /// <param name="dtype">The requested dtype.</param>
    /// <param name="deviceType">The device type the model runs on.</param>
    /// <returns>The concrete dtype.</returns>
    /// <exception cref="NotSupportedException">float16 on the CPU.</exception>
    public static ScalarType ResolveDType(ModelDType dtype, DeviceType deviceType) => DeviceSelection.ResolveDType(dtype, deviceType);

    /// <summary>Creates a copy of these options.</summary>
    /// <returns>The copy.</returns>
    public Idefics3EngineOptions Clone() => (Idefics3EngineOptions)MemberwiseClone();

    internal static (string Kind, int Index) ParseDevice(string? device)
    {
        string d = (device ?? "auto").Trim().ToLowerInvariant();
        if (d is "auto" or "cpu" or "cuda")
        {
            return (d, d == "cuda" ? 0 : -1);
        }

        if (d.StartsWith("cuda:", StringComparison.Ordinal) &&
            int.TryParse(d.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
        {
            return ("cuda", index);
        }

        throw new ArgumentException($"Unknown device '{device}'. Use auto, cpu, cuda or cuda:N.", nameof(device));
    }
}
