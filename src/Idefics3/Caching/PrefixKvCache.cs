using Idefics3.Configuration;
using Idefics3.Engine;
using Idefics3.Generation;
using Idefics3.Modeling;
using static TorchSharp.torch;

namespace Idefics3.Caching;

/// <summary>
/// KV caches of earlier requests, keyed by their token sequence with image tokens identified by their image's key
/// (<see cref="TokenPrefix"/>), so a request that starts with the same tokens and images copies those positions instead
/// of prefilling them. Entries are copies (never modified in place), bounded by bytes, and scoped to one model, dtype
/// and device. Thread-safe. With a capacity of 0 nothing is kept.
/// </summary>
internal sealed class PrefixKvCache : IDisposable
{
    private readonly PrefixCacheIndex<KvCache>? _index;
    private readonly IModelRunner _runner;
    private readonly string _compatibilityKey;
    private readonly int _imageTokenId;
    private readonly EngineMetrics _metrics;

    public PrefixKvCache(Idefics3ForConditionalGeneration network, IModelRunner runner, string modelPath, long capacityBytes, EngineMetrics metrics)
    {
        _runner = runner;
        _metrics = metrics;
        _imageTokenId = network.Config.ImageTokenId;
        _compatibilityKey = $"{modelPath}|{network.Dtype}|{network.Device}";
        if (capacityBytes > 0)
        {
            TextConfig text = network.Config.Text;
            long elementSize = network.Dtype == ScalarType.Float32 ? 4 : 2;
            _index = new PrefixCacheIndex<KvCache>(
                capacityBytes,
                c => 2L * c.Layers * c.Batch * text.NumKeyValueHeads * c.Capacity * text.HeadDim * elementSize,
                static c => c.Dispose());
        }
    }

    /// <summary>
    /// Copies the longest cached prefix of <paramref name="ids"/> into <paramref name="cache"/>; at least the last prompt
    /// token is left to run (it produces the first logits).
    /// </summary>
    /// <returns>The number of positions restored (0 on a miss).</returns>
    public int Restore(int[] ids, PreparedPrompt prompt, KvCache cache)
    {
        if (_index is null)
        {
            return 0;
        }

        using PrefixCacheMatch<KvCache>? match = _index.FindLongest(_compatibilityKey, KeyOf(ids, prompt));
        int restored = match is null ? 0 : Math.Min(match.MatchedLength, ids.Length - 1);
        if (restored > 0)
        {
            cache.CopyPrefixFrom(match!.Value, restored);
            _metrics.PrefixCacheHit(restored);
        }

        return restored;
    }

    /// <summary>Keeps a copy of the first <c>sequence.Length</c> positions of <paramref name="cache"/> under <paramref name="sequence"/>.</summary>
    public void Store(int[] sequence, PreparedPrompt prompt, KvCache cache)
    {
        if (_index is null || sequence.Length == 0)
        {
            return;
        }

        KvCache snapshot = _runner.CreateCache(sequence.Length);
        snapshot.CopyPrefixFrom(cache, sequence.Length);
        _index.Add(_compatibilityKey, KeyOf(sequence, prompt), snapshot).Dispose();
    }

    /// <summary>Drops every entry (leased ones are freed when their lease ends).</summary>
    public void Clear() => _index?.Clear();

    public void Dispose() => _index?.Dispose();

    private TokenPrefix KeyOf(int[] ids, PreparedPrompt prompt) =>
        TokenPrefix.Create(ids, _imageTokenId, [.. prompt.Images.Select(i => i.CacheKey)], [.. prompt.Images.Select(i => i.TokenCount)]);
}
