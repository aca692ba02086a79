using Idefics3.Generation;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Tests.Generation;

public sealed class LruCacheTests
{
    private sealed class Item(long size)
    {
        public long Size { get; } = size;

        public int Disposals { get; set; }
    }

    private static LruCache<string, Item> Create(long capacity, List<string> evicted, int? maxCount = null) =>
        new(capacity, i => i.Size, (k, v) => { v.Disposals++; evicted.Add(k); }, maxCount);

    [Fact]
    public void Evicts_least_recently_used_entries_until_the_bytes_fit()
    {
        var evicted = new List<string>();
        using var cache = Create(100, evicted);
        cache.Add("a", new Item(40)).Dispose();
        cache.Add("b", new Item(40)).Dispose();
        Assert.True(cache.TryAcquire("a", out CacheLease<Item>? lease)); // "a" becomes most recent
        lease.Dispose();
        cache.Add("c", new Item(50)).Dispose();

        Assert.Equal(["b"], evicted);
        Assert.Equal(90, cache.CurrentBytes);
        Assert.True(cache.ContainsKey("a"));
        Assert.True(cache.ContainsKey("c"));
        Assert.Equal(["c", "a"], cache.GetKeys());
    }

    [Fact]
    public void A_leased_value_is_released_only_after_its_lease_is_disposed()
    {
        var evicted = new List<string>();
        using var cache = Create(10, evicted);
        var item = new Item(10);
        CacheLease<Item> lease = cache.Add("a", item);
        cache.Add("b", new Item(10)).Dispose();

        Assert.False(cache.ContainsKey("a"));
        Assert.Empty(evicted);
        Assert.Same(item, lease.Value);
        lease.Dispose();
        lease.Dispose();
        Assert.Equal(["a"], evicted);
        Assert.Equal(1, item.Disposals);
    }

    [Fact]
    public void A_value_larger_than_the_capacity_is_not_stored_and_released_with_its_lease()
    {
        var evicted = new List<string>();
        using var cache = Create(10, evicted);
        using (CacheLease<Item> lease = cache.Add("big", new Item(11)))
        {
            Assert.Equal(0, cache.Count);
            Assert.Empty(evicted);
        }

        Assert.Equal(["big"], evicted);
    }

    [Fact]
    public void Replacing_a_key_releases_the_old_value()
    {
        var evicted = new List<string>();
        using var cache = Create(100, evicted);
        var old = new Item(10);
        cache.Add("a", old).Dispose();
        cache.Add("a", new Item(20)).Dispose();
        Assert.Equal(1, old.Disposals);
        Assert.Equal(20, cache.CurrentBytes);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Max_count_evicts_the_oldest()
    {
        var evicted = new List<string>();
        using var cache = Create(1000, evicted, maxCount: 2);
        foreach (string key in new[] { "a", "b", "c" })
        {
            cache.Add(key, new Item(1)).Dispose();
        }

        Assert.Equal(["a"], evicted);
    }

    [Fact]
    public void Clear_and_dispose_release_every_value_once()
    {
        var evicted = new List<string>();
        var cache = Create(100, evicted);
        cache.Add("a", new Item(1)).Dispose();
        cache.Add("b", new Item(1)).Dispose();
        cache.Add("c", new Item(1)).Dispose();
        cache.Clear();
        Assert.Equal(["c", "b", "a"], evicted);
        cache.Add("d", new Item(1)).Dispose();
        cache.Dispose();
        Assert.Equal(["c", "b", "a", "d"], evicted);
        Assert.Throws<ObjectDisposedException>(() => cache.Add("d", new Item(1)));
    }

    [Fact]
    public void Evicted_tensors_are_disposed_by_the_callback()
    {
        using var cache = new LruCache<string, Tensor>(
            capacityBytes: 64,
            sizeOf: t => t.NumberOfElements * t.ElementSize,
            onEvicted: (_, t) => t.Dispose());
        Tensor first = zeros(16); // 64 bytes
        cache.Add("first", first).Dispose();
        Tensor second = ones(16);
        using (CacheLease<Tensor> lease = cache.Add("second", second))
        {
            Assert.True(first.IsInvalid);
            Assert.False(second.IsInvalid);
            Assert.Equal(16f, lease.Value.sum().item<float>());
        }

        cache.Clear();
        Assert.True(second.IsInvalid);
    }

    [Fact]
    public void Concurrent_use_releases_every_value_exactly_once_and_keeps_the_bound()
    {
        var items = new System.Collections.Concurrent.ConcurrentBag<Item>();
        int released = 0;
        var cache = new LruCache<int, Item>(50, i => i.Size, (_, v) => { lock (v) { v.Disposals++; } Interlocked.Increment(ref released); });
        Parallel.For(0, 2000, i =>
        {
            var item = new Item(1 + (i % 7));
            items.Add(item);
            using (cache.Add(i % 37, item))
            {
                Assert.True(cache.CurrentBytes <= 50);
            }

            if (cache.TryAcquire((i * 13) % 37, out CacheLease<Item>? lease))
            {
                Assert.Equal(0, lease.Value.Disposals);
                lease.Dispose();
            }
        });
        cache.Dispose();
        Assert.Equal(2000, released);
        Assert.All(items, item => Assert.Equal(1, item.Disposals));
    }
}
