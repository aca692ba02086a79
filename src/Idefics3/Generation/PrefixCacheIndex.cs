namespace Idefics3.Generation;

/// <summary>
/// A thread-safe, memory-bounded store of values computed for token sequences (typically prefix key/value caches),
/// that finds the cached sequence sharing the longest prefix with a new request. Every entry carries a compatibility
/// key (model, dtype, device, preprocessing and any other setting that changes the value); an entry is only ever
/// returned for a request with the same key (ordinal comparison).
/// </summary>
/// <typeparam name="TValue">The cached value type.</typeparam>
/// <remarks>
/// Entries are evicted least recently used first when the total of the value sizes plus the token sequences'
/// estimated sizes exceeds the capacity, or when there are more than the maximum number of entries; eviction hands
/// the value to the callback once its last lease is released (see <see cref="LruCache{TKey, TValue}"/>). Lookup is a
/// linear scan over the entries (they are few: each holds a whole key/value cache).
/// </remarks>
internal sealed class PrefixCacheIndex<TValue> : IDisposable
{
    private readonly LruCache<PrefixKey, Slot> _cache;
    private readonly Func<TValue, long> _sizeOf;

    /// <summary>Initializes a new instance of the <see cref="PrefixCacheIndex{TValue}"/> class.</summary>
    /// <param name="capacityBytes">The largest total size of the entries, at least 0.</param>
    /// <param name="sizeOf">Measures a value in bytes.</param>
    /// <param name="onEvicted">Releases a value that left the index (for example disposes its tensors); may be null.</param>
    /// <param name="maxEntries">The largest number of entries, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacityBytes"/> is negative or <paramref name="maxEntries"/> is below 1.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="sizeOf"/> is null.</exception>
    public PrefixCacheIndex(long capacityBytes, Func<TValue, long> sizeOf, Action<TValue>? onEvicted = null, int maxEntries = 16)
    {
        ArgumentNullException.ThrowIfNull(sizeOf);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        _cache = new LruCache<PrefixKey, Slot>(
            capacityBytes,
            slot => slot.Bytes,
            onEvicted is null ? null : (_, slot) => onEvicted(slot.Value),
            maxEntries);
        _sizeOf = sizeOf;
    }

    /// <summary>Gets the number of entries.</summary>
    public int Count => _cache.Count;

    /// <summary>Gets the total size of the entries, token sequences included.</summary>
    public long CurrentBytes => _cache.CurrentBytes;

    /// <summary>
    /// Stores <paramref name="value"/> (the index takes ownership) as computed for <paramref name="tokens"/> under
    /// <paramref name="compatibilityKey"/>, replacing an entry with the same key and tokens, and returns a lease on it.
    /// </summary>
    /// <param name="compatibilityKey">The settings the value depends on, for example <c>"SmolVLM-256M|bf16|cpu"</c>.</param>
    /// <param name="tokens">The token sequence the value covers.</param>
    /// <param name="value">The value.</param>
    /// <returns>A lease on the value; dispose it when done.</returns>
    /// <exception cref="ArgumentException"><paramref name="compatibilityKey"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException">The size function returned a negative size.</exception>
    public CacheLease<TValue> Add(string compatibilityKey, TokenPrefix tokens, TValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(compatibilityKey);
        ArgumentNullException.ThrowIfNull(tokens);
        long bytes = _sizeOf(value);
        if (bytes < 0)
        {
            throw new InvalidOperationException($"The size function returned {bytes}; sizes must be >= 0.");
        }

        CacheLease<Slot> lease = _cache.Add(new PrefixKey(compatibilityKey, tokens), new Slot(value, bytes + tokens.EstimatedBytes));
        return new CacheLease<TValue>(value, lease.Dispose);
    }

    /// <summary>
    /// Finds the entry with the same compatibility key whose tokens share the longest common prefix with
    /// <paramref name="request"/>, at least <paramref name="minimumLength"/> tokens; among equals, the most recently used.
    /// </summary>
    /// <param name="compatibilityKey">The request's compatibility key.</param>
    /// <param name="request">The request's token sequence.</param>
    /// <param name="minimumLength">The shortest useful match, at least 1.</param>
    /// <param name="requireFullPrefix">When true, only entries whose whole sequence is a prefix of the request qualify.</param>
    /// <returns>The leased match (dispose it), or <see langword="null"/> when none qualifies.</returns>
    /// <exception cref="ArgumentException"><paramref name="compatibilityKey"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minimumLength"/> is below 1.</exception>
    public PrefixCacheMatch<TValue>? FindLongest(string compatibilityKey, TokenPrefix request, int minimumLength = 1, bool requireFullPrefix = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(compatibilityKey);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumLength, 1);

        var candidates = new List<(PrefixKey Key, int Length)>();
        foreach (PrefixKey key in _cache.GetKeys())
        {
            if (!string.Equals(key.CompatibilityKey, compatibilityKey, StringComparison.Ordinal))
            {
                continue;
            }

            int common = key.Tokens.CommonPrefixLength(request);
            if (common >= minimumLength && (!requireFullPrefix || common == key.Tokens.Length))
            {
                candidates.Add((key, common));
            }
        }

        // Stable sort keeps most-recently-used first among equal lengths; an entry evicted meanwhile is skipped.
        foreach ((PrefixKey key, int length) in candidates.OrderByDescending(c => c.Length))
        {
            if (_cache.TryAcquire(key, out CacheLease<Slot>? lease))
            {
                return new PrefixCacheMatch<TValue>(lease.Value.Value, key.Tokens, length, lease);
            }
        }

        return null;
    }

    /// <summary>Removes every entry.</summary>
    public void Clear() => _cache.Clear();

    /// <summary>Removes every entry and refuses further use.</summary>
    public void Dispose() => _cache.Dispose();

    private sealed record PrefixKey(string CompatibilityKey, TokenPrefix Tokens);

    private sealed record Slot(TValue Value, long Bytes);
}
