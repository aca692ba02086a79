namespace Idefics3.Imaging;

/// <summary>How the samples of a <see cref="DecodedPixels"/> buffer are laid out.</summary>
internal enum PixelLayout
{
    /// <summary>8-bit R, G, B, A per pixel, not premultiplied.</summary>
    Rgba8,

    /// <summary>
    /// 16-bit little-endian R, G, B, A per pixel, not premultiplied; narrowed to 8 bits by the high byte, as Pillow reads
    /// 16-bit RGB(A) and gray+alpha PNGs.
    /// </summary>
    Rgba16,

    /// <summary>
    /// 16-bit gray stored as R = G = B (16-bit little-endian RGBA), narrowed as Pillow's <c>I;16</c> to RGB conversion
    /// does: values over 255 clip to 255.
    /// </summary>
    Gray16Clipped,
}

/// <summary>
/// Pixels as the format decoder produced them, in stored order (EXIF orientation not yet applied).
/// </summary>
/// <param name="Width">Stored width.</param>
/// <param name="Height">Stored height.</param>
/// <param name="Layout">Sample layout of <paramref name="Samples"/>.</param>
/// <param name="Samples">The samples, rows top to bottom, no padding.</param>
/// <param name="Orientation">The EXIF orientation tag (1-8; anything else means none).</param>
internal sealed record DecodedPixels(int Width, int Height, PixelLayout Layout, byte[] Samples, int Orientation)
{
    /// <summary>Gets the bytes per pixel of <see cref="Samples"/>.</summary>
    public int BytesPerPixel => Layout == PixelLayout.Rgba8 ? 4 : 8;
}
