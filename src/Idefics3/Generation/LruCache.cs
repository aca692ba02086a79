namespace Idefics3.Generation;

/// <summary>
/// A thread-safe least-recently-used cache bounded by the total size of its values (for example tensor bytes) and,
/// optionally, by its number of entries. The cache owns its values: when a value leaves the cache (eviction, removal,
/// replacement, <see cref="Clear"/>, <see cref="Dispose"/>) the eviction callback runs once for it, typically to
/// dispose TorchSharp tensors, but only after every <see cref="CacheLease{TValue}"/> on it has been disposed.
/// </summary>
/// <typeparam name="TKey">The key type; equality by <see cref="EqualityComparer{T}.Default"/> or the given comparer.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
/// <remarks>
/// Sizes are measured once, when a value is added. A value larger than the capacity is never stored: the lease
/// <see cref="Add"/> returns is then its only holder and the callback runs when that lease is disposed. Eviction
/// callbacks run outside the cache's lock, on the thread that caused the eviction or released the last lease;
/// exceptions they throw propagate to that caller.
/// </remarks>
internal sealed class LruCache<TKey, TValue> : IDisposable
    where TKey : notnull
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TKey, LinkedListNode<Entry>> _map;
    private readonly LinkedList<Entry> _order = new(); // most recently used first
    private readonly Func<TValue, long> _sizeOf;
    private readonly Action<TKey, TValue>? _onEvicted;
    private long _currentBytes;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="LruCache{TKey, TValue}"/> class.</summary>
    /// <param name="capacityBytes">The largest total size of stored values, at least 0.</param>
    /// <param name="sizeOf">Measures a value, in the same unit as <paramref name="capacityBytes"/>; must return at least 0.</param>
    /// <param name="onEvicted">Called once per value that leaves the cache, after its last lease; may be null.</param>
    /// <param name="maxCount">The largest number of entries, at least 1; null for no limit.</param>
    /// <param name="comparer">The key comparer; null for the default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacityBytes"/> is negative or <paramref name="maxCount"/> is below 1.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="sizeOf"/> is null.</exception>
    public LruCache(long capacityBytes, Func<TValue, long> sizeOf, Action<TKey, TValue>? onEvicted = null, int? maxCount = null, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        ArgumentNullException.ThrowIfNull(sizeOf);
        if (maxCount is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, "maxCount must be at least 1 (or null for no limit).");
        }

        CapacityBytes = capacityBytes;
        MaxCount = maxCount;
        _sizeOf = sizeOf;
        _onEvicted = onEvicted;
        _map = new Dictionary<TKey, LinkedListNode<Entry>>(comparer);
    }

    private long CapacityBytes { get; }

    private int? MaxCount { get; }

    /// <summary>Gets the total size of the stored values (leased values that were evicted are no longer counted).</summary>
    public long CurrentBytes
    {
        get
        {
            lock (_lock)
            {
                return _currentBytes;
            }
        }
    }

    /// <summary>Gets the number of stored entries.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    /// <summary>Gets a value indicating whether <paramref name="key"/> is stored, without changing its recency.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> when the key is stored.</returns>
    public bool ContainsKey(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            return _map.ContainsKey(key);
        }
    }

    /// <summary>Gets a snapshot of the stored keys, most recently used first.</summary>
    /// <returns>The keys.</returns>
    public IReadOnlyList<TKey> GetKeys()
    {
        lock (_lock)
        {
            return [.. _order.Select(e => e.Key)];
        }
    }

    /// <summary>Looks a key up, marks it most recently used and leases its value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="lease">The lease on the value when found; dispose it when done.</param>
    /// <returns><see langword="true"/> when the key was found.</returns>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public bool TryAcquire(TKey key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CacheLease<TValue>? lease)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_map.TryGetValue(key, out LinkedListNode<Entry>? node))
            {
                lease = null;
                return false;
            }

            _order.Remove(node);
            _order.AddFirst(node);
            lease = LeaseLocked(node.Value);
            return true;
        }
    }

    /// <summary>
    /// Stores a value (the cache takes ownership), replacing any value under the same key, evicts least recently used
    /// entries until the limits hold, and returns a lease on the new value.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <returns>A lease on <paramref name="value"/>; dispose it when done.</returns>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    /// <exception cref="InvalidOperationException">The size function returned a negative size.</exception>
    public CacheLease<TValue> Add(TKey key, TValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        long size = _sizeOf(value);
        if (size < 0)
        {
            throw new InvalidOperationException($"The size function returned {size}; sizes must be >= 0.");
        }

        var released = new List<Entry>();
        CacheLease<TValue> lease;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var entry = new Entry(key, value, size);
            lease = LeaseLocked(entry);
            if (_map.TryGetValue(key, out LinkedListNode<Entry>? old))
            {
                RemoveLocked(old, released);
            }

            if (size <= CapacityBytes)
            {
                _map[key] = _order.AddFirst(entry);
                _currentBytes += size;
                while (_currentBytes > CapacityBytes || (MaxCount is int max && _map.Count > max))
                {
                    RemoveLocked(_order.Last!, released);
                }
            }
            else
            {
                entry.Removed = true;
            }
        }

        RunCallbacks(released);
        return lease;
    }

    /// <summary>Removes every entry whose key satisfies <paramref name="predicate"/>.</summary>
    /// <param name="predicate">Selects the keys to remove; runs under the cache's lock and must not call the cache.</param>
    /// <returns>The number of entries removed.</returns>
    private int RemoveWhere(Func<TKey, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var released = new List<Entry>();
        int removed = 0;
        lock (_lock)
        {
            for (LinkedListNode<Entry>? node = _order.First; node is not null;)
            {
                LinkedListNode<Entry>? next = node.Next;
                if (predicate(node.Value.Key))
                {
                    RemoveLocked(node, released);
                    removed++;
                }

                node = next;
            }
        }

        RunCallbacks(released);
        return removed;
    }

    /// <summary>Removes every entry.</summary>
    public void Clear() => RemoveWhere(static _ => true);

    /// <summary>Removes every entry and refuses further additions and lookups.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        Clear();
    }

    private CacheLease<TValue> LeaseLocked(Entry entry)
    {
        entry.Leases++;
        return new CacheLease<TValue>(entry.Value, () => Release(entry));
    }

    private void Release(Entry entry)
    {
        bool run;
        lock (_lock)
        {
            entry.Leases--;
            run = entry.Removed && entry.Leases == 0;
        }

        if (run)
        {
            _onEvicted?.Invoke(entry.Key, entry.Value);
        }
    }

    private void RemoveLocked(LinkedListNode<Entry> node, List<Entry> released)
    {
        Entry entry = node.Value;
        _order.Remove(node);
        _map.Remove(entry.Key);
        _currentBytes -= entry.Size;
        entry.Removed = true;
        if (entry.Leases == 0)
        {
            released.Add(entry);
        }
    }

    private void RunCallbacks(List<Entry> released)
    {
        if (_onEvicted is null)
        {
            return;
        }

        foreach (Entry entry in released)
        {
            _onEvicted(entry.Key, entry.Value);
        }
    }

    private sealed class Entry(TKey key, TValue value, long size)
    {
        public TKey Key { get; } = key;

        public TValue Value { get; } = value;

        public long Size { get; } = size;

        public int Leases { get; set; }

        public bool Removed { get; set; }
    }
}
