namespace Idefics3.Imaging;

/// <summary>
/// One image after the Idefics3 image processor: the tile grid and the normalised frames (row-major tiles, then the
/// global frame). Immutable; safe to cache by <see cref="ContentHash"/> and <see cref="ImageProcessingSettings.CacheKey"/>.
/// </summary>
internal sealed class ProcessedImage
{
    internal ProcessedImage(string contentHash, int originalWidth, int originalHeight, ImageLayout layout, IReadOnlyList<RgbImage> frames, float[] pixelValues)
    {
        ContentHash = contentHash;
        OriginalWidth = originalWidth;
        OriginalHeight = originalHeight;
        Layout = layout;
        Frames = frames;
        PixelValues = pixelValues;
    }

    /// <summary>Gets the SHA-256 (lower-case hex) of the encoded image bytes.</summary>
    public string ContentHash { get; }

    /// <summary>Gets the decoded width (after EXIF orientation).</summary>
    public int OriginalWidth { get; }

    /// <summary>Gets the decoded height (after EXIF orientation).</summary>
    public int OriginalHeight { get; }

    /// <summary>Gets the sizes and the tile grid.</summary>
    public ImageLayout Layout { get; }

    /// <summary>Gets the tile rows (0 for a single frame).</summary>
    public int Rows => Layout.Rows;

    /// <summary>Gets the tile columns (0 for a single frame).</summary>
    public int Cols => Layout.Cols;

    /// <summary>Gets the number of frames.</summary>
    public int FrameCount => Frames.Count;

    /// <summary>Gets the uint8 frames before rescale and normalisation (what Pillow produced in Hugging Face).</summary>
    public IReadOnlyList<RgbImage> Frames { get; }

    /// <summary>
    /// Gets the normalised pixel values, float32, frame after frame, each frame <c>[3, height, width]</c> (CHW) at its
    /// own size (see <see cref="Frames"/>); the processor pads them into one batch.
    /// </summary>
#pragma warning disable CA1819 // Large numeric buffers are exposed without copies for the engine.
    public float[] PixelValues { get; }
#pragma warning restore CA1819
}
