using Idefics3.Engine;
using Idefics3.Generation;
using Idefics3.Modeling;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Caching;

/// <summary>
/// Image features <c>[frames, image_seq_len, text_hidden]</c> by image key (<see cref="PreparedImage.CacheKey"/>: content
/// hash plus the processing settings' <c>CacheKey</c>), in an LRU bounded by bytes. Encoding is single-flight: when
/// several requests need the same image that is not cached yet, one encodes it and the others wait for its result.
/// Thread-safe. With a capacity of 0 nothing is kept and every call encodes.
/// </summary>
internal sealed partial class VisionFeatureCache : IDisposable
{
    private readonly Idefics3ForConditionalGeneration _network;
    private readonly LruCache<string, Tensor>? _cache;
    private readonly Dictionary<string, TaskCompletionSource> _encoding = new(StringComparer.Ordinal);
    private readonly EngineMetrics _metrics;
    private readonly ILogger _logger;

    public VisionFeatureCache(Idefics3ForConditionalGeneration network, long capacityBytes, EngineMetrics metrics, ILogger logger)
    {
        _network = network;
        _metrics = metrics;
        _logger = logger;
        if (capacityBytes > 0)
        {
            _cache = new LruCache<string, Tensor>(capacityBytes, static t => t.NumberOfElements * t.ElementSize, static (_, t) => t.Dispose());
        }
    }

    /// <summary>Returns the features of one image of <paramref name="prompt"/>, encoding them on a miss.</summary>
    /// <param name="image">The image.</param>
    /// <param name="prompt">The prompt holding its pixels.</param>
    /// <param name="cancellationToken">Cancels encoding or waiting for another request's encoding.</param>
    /// <returns>A lease on the features; dispose it when done.</returns>
    public CacheLease<Tensor> Acquire(PreparedImage image, PreparedPrompt prompt, CancellationToken cancellationToken)
    {
        if (_cache is null)
        {
            Tensor features = Encode(image, prompt, cancellationToken);
            return new CacheLease<Tensor>(features, features.Dispose);
        }

        while (true)
        {
            if (_cache.TryAcquire(image.CacheKey, out CacheLease<Tensor>? hit))
            {
                _metrics.VisionCacheHit();
                LogHit(_logger, image.FrameCount);
                return hit;
            }

            TaskCompletionSource? running;
            bool mine = false;
            lock (_encoding)
            {
                if (!_encoding.TryGetValue(image.CacheKey, out running))
                {
                    running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _encoding.Add(image.CacheKey, running);
                    mine = true;
                }
            }

            if (!mine)
            {
                // Another request is encoding this image: wait, then take it from the cache (or encode it, if that failed).
                running.Task.Wait(cancellationToken);
                continue;
            }

            try
            {
                return _cache.Add(image.CacheKey, Encode(image, prompt, cancellationToken));
            }
            finally
            {
                lock (_encoding)
                {
                    _encoding.Remove(image.CacheKey);
                }

                running.SetResult();
            }
        }
    }

    /// <summary>Drops every cached feature set (leased ones are freed when their lease ends).</summary>
    public void Clear() => _cache?.Clear();

    public void Dispose() => _cache?.Dispose();

    private Tensor Encode(PreparedImage image, PreparedPrompt prompt, CancellationToken cancellationToken)
    {
        _metrics.VisionEncoded();
        using var scope = NewDisposeScope();
        Tensor pixels = prompt.PixelValues!.narrow(0, image.FirstFrame, image.FrameCount);           // [frames, 3, H, W]
        Tensor? mask = prompt.PixelAttentionMask?.narrow(0, image.FirstFrame, image.FrameCount);     // [frames, H, W]
        // Detached: the features outlive this scope (in the cache, or until their lease ends).
        return _network.EncodeImages(pixels, mask, cancellationToken).DetachFromDisposeScope();
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Vision features for {Frames} frames served from the cache")]
    private static partial void LogHit(ILogger logger, int frames);
}
