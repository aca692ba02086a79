namespace Idefics3.Generation;

/// <summary>
/// A hold on one value of an <see cref="LruCache{TKey, TValue}"/>: while any lease on it is undisposed, the cache does not
/// release the value (its eviction callback runs only after the last lease is disposed), so the value stays usable
/// even if it is evicted meanwhile. Dispose it when done with the value; disposing twice is harmless.
/// </summary>
/// <typeparam name="TValue">The cached value type.</typeparam>
internal sealed class CacheLease<TValue> : IDisposable
{
    private Action? _release;

    internal CacheLease(TValue value, Action release)
    {
        Value = value;
        _release = release;
    }

    /// <summary>Gets the leased value. Do not use it after disposing the lease.</summary>
    public TValue Value { get; }

    /// <summary>Releases the hold; the value may be released by the cache from now on.</summary>
    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}
