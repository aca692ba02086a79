using Idefics3.Imaging;

namespace Idefics3.Processing;

/// <summary>A cache of processed images, keyed by image content hash plus the settings that shape the output.</summary>
public interface IProcessedImageCache
{
    /// <summary>Looks up a processed image.</summary>
    /// <param name="key">The key (content hash and <see cref="ImageProcessingSettings.CacheKey"/>).</param>
    /// <param name="image">The cached image when found.</param>
    /// <returns>True when found.</returns>
    bool TryGet(string key, out ProcessedImage? image);

    /// <summary>Stores a processed image.</summary>
    /// <param name="key">The key.</param>
    /// <param name="image">The image.</param>
    void Store(string key, ProcessedImage image);
}
