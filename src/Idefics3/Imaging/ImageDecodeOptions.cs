namespace Idefics3.Imaging;

/// <summary>Options for <see cref="ImageDecoder"/>.</summary>
internal sealed record ImageDecodeOptions
{
    /// <summary>The default pixel limit: 89,478,485 pixels, Pillow's decompression-bomb threshold.</summary>
    public const long DefaultMaxPixels = 89_478_485;

    /// <summary>Gets how transparency is flattened to RGB.</summary>
    public AlphaHandling AlphaHandling { get; init; } = AlphaHandling.CompositeOnWhite;

    /// <summary>Gets the largest accepted width x height, checked from the header before decoding.</summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>Gets a value indicating whether the EXIF orientation is applied (as Hugging Face's <c>load_image</c>).</summary>
    public bool ApplyExifOrientation { get; init; } = true;
}
