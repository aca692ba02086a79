using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>
/// Preallocated key/value cache: per layer one key and one value buffer [batch, kv_heads, capacity, head_dim] holding
/// post-RoPE keys and values. New positions are written in place; nothing is concatenated. All rows share one length
/// (left-padded batches keep their padding in the cache and mask it with the attention mask).
/// </summary>
internal sealed class KvCache : IDisposable
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;
    private bool _disposed;

    internal KvCache(int layers, long batch, long kvHeads, long capacity, long headDim, ScalarType dtype, Device device)
    {
        Batch = batch;
        Capacity = capacity;
        _keys = new Tensor[layers];
        _values = new Tensor[layers];
        using (torch.inference_mode())
        {
            for (int i = 0; i < layers; i++)
            {
                _keys[i] = torch.zeros([batch, kvHeads, capacity, headDim], dtype, device).DetachFromDisposeScope();
                _values[i] = torch.zeros([batch, kvHeads, capacity, headDim], dtype, device).DetachFromDisposeScope();
            }
        }
    }

    /// <summary>Gets the batch size the cache was created for.</summary>
    public long Batch { get; }

    /// <summary>Gets the number of positions the cache can hold.</summary>
    public long Capacity { get; }

    /// <summary>Gets the number of positions written so far (the next position index).</summary>
    public long Length { get; private set; }

    /// <summary>Gets the number of layers.</summary>
    public int Layers => _keys.Length;

    /// <summary>Forgets every position at or after <paramref name="length"/> (keeps a prefix for reuse).</summary>
    /// <param name="length">The new length, 0 to the current length.</param>
    public void Crop(long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        Length = length;
    }

    /// <summary>Copies the first <paramref name="length"/> positions of <paramref name="source"/> into this cache and sets the length.</summary>
    /// <param name="source">A cache with the same batch, layer and head layout.</param>
    /// <param name="length">The number of positions to copy (at most the source length and this capacity).</param>
    public void CopyPrefixFrom(KvCache source, long length)
    {
        ArgumentNullException.ThrowIfNull(source);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, source.Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Capacity);
        if (source.Layers != Layers || source.Batch != Batch)
        {
            throw new ArgumentException("caches differ in layers or batch size", nameof(source));
        }

        using (torch.inference_mode())
        using (torch.NewDisposeScope())
        {
            for (int i = 0; i < Layers; i++)
            {
                _keys[i].narrow(2, 0, length).copy_(source._keys[i].narrow(2, 0, length));
                _values[i].narrow(2, 0, length).copy_(source._values[i].narrow(2, 0, length));
            }
        }

        Length = length;
    }

    /// <summary>Writes k, v [B, kv, T, hd] at positions Length..Length+T and returns views of positions 0..Length+T.</summary>
    internal (Tensor Keys, Tensor Values) Update(int layer, Tensor k, Tensor v)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long t = k.shape[2];
        if (Length + t > Capacity)
        {
            throw new InvalidOperationException($"KV cache capacity {Capacity} exceeded: {Length} positions cached, {t} more requested");
        }

        if (k.shape[0] != Batch)
        {
            throw new ArgumentException($"batch {k.shape[0]} does not match the cache batch {Batch}");
        }

        _keys[layer].narrow(2, Length, t).copy_(k);
        _values[layer].narrow(2, Length, t).copy_(v);
        return (_keys[layer].narrow(2, 0, Length + t), _values[layer].narrow(2, 0, Length + t));
    }

    /// <summary>Gets the key buffer [B, kv, capacity, hd] of <paramref name="layer"/> (the fast decode step writes it in place).</summary>
    internal Tensor KeyBuffer(int layer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _keys[layer];
    }

    /// <summary>Gets the value buffer [B, kv, capacity, hd] of <paramref name="layer"/>.</summary>
    internal Tensor ValueBuffer(int layer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _values[layer];
    }

    /// <summary>Marks <paramref name="count"/> more positions as written (after every layer has been updated).</summary>
    internal void Advance(long count) => Length += count;

    /// <summary>Frees the buffers.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (Tensor t in _keys.Concat(_values))
        {
            t.Dispose();
        }
    }
}
