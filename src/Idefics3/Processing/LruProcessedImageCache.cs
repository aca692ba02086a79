using Idefics3.Imaging;

namespace Idefics3.Processing;

/// <summary>A thread-safe least-recently-used <see cref="IProcessedImageCache"/> holding a fixed number of images.</summary>
public sealed class LruProcessedImageCache : IProcessedImageCache
{
    private readonly int _capacity;
    private readonly LinkedList<(string Key, ProcessedImage Image)> _order = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, ProcessedImage Image)>> _map = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Initializes a new instance of the <see cref="LruProcessedImageCache"/> class.</summary>
    /// <param name="capacity">How many images are kept (a 17-frame 364-pixel image is about 27 MB of floats).</param>
    public LruProcessedImageCache(int capacity = 8)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
    }

    /// <summary>Gets the number of cached images.</summary>
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

    /// <inheritdoc/>
    public bool TryGet(string key, out ProcessedImage? image)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                image = node.Value.Image;
                return true;
            }
        }

        image = null;
        return false;
    }

    /// <inheritdoc/>
    public void Store(string key, ProcessedImage image)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(image);
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var existing))
            {
                _order.Remove(existing);
            }

            _map[key] = _order.AddFirst((key, image));
            while (_map.Count > _capacity)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
            }
        }
    }
}
