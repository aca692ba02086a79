using Microsoft.Extensions.Caching.Distributed;

namespace Idefics3.Samples.ExtensionsAIPipeline;

/// <summary>
/// An <see cref="IDistributedCache"/> decorator that counts hits, misses and writes, so the sample can show that a
/// repeated request never reached the model. Swap the inner cache for Redis or SQL Server in a real application.
/// </summary>
public sealed class CountingDistributedCache(IDistributedCache inner) : IDistributedCache
{
    private int _hits;
    private int _misses;
    private int _writes;

    public int Hits => Volatile.Read(ref _hits);

    public int Misses => Volatile.Read(ref _misses);

    public int Writes => Volatile.Read(ref _writes);

    public byte[]? Get(string key) => Count(inner.Get(key));

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Count(await inner.GetAsync(key, token));

    public void Refresh(string key) => inner.Refresh(key);

    public Task RefreshAsync(string key, CancellationToken token = default) => inner.RefreshAsync(key, token);

    public void Remove(string key) => inner.Remove(key);

    public Task RemoveAsync(string key, CancellationToken token = default) => inner.RemoveAsync(key, token);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        Interlocked.Increment(ref _writes);
        inner.Set(key, value, options);
    }

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        Interlocked.Increment(ref _writes);
        return inner.SetAsync(key, value, options, token);
    }

    private byte[]? Count(byte[]? value)
    {
        Interlocked.Increment(ref value is null ? ref _misses : ref _hits);
        return value;
    }
}
