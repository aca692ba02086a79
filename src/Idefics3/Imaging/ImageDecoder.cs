namespace Idefics3.Imaging;

/// <summary>
/// Decodes PNG, JPEG, WebP, GIF (first frame), BMP, ICO (largest entry) and TIFF (first page) into 8-bit RGB exactly
/// as Hugging Face's <c>load_image</c> gets it from Pillow: <c>ImageOps.exif_transpose</c>, then <c>convert("RGB")</c>,
/// with transparency composited on white by default (<see cref="AlphaHandling"/>). Skia decodes every format but TIFF
/// (its JPEG decoder is libjpeg-turbo, Pillow's); LibTiff.NET decodes TIFF. The pixel limit is checked from the
/// header before any pixel buffer is allocated; truncated, corrupt and unsupported files fail with
/// <see cref="ImageDecodeException"/> or a subclass, never with another exception type.
/// </summary>
internal static class ImageDecoder
{
    private const string Supported = "PNG, JPEG, WebP, GIF, BMP, ICO, TIFF";

    /// <summary>Reads the size of an image from its header, with EXIF orientation applied (90/270 degree rotations swap the sides).</summary>
    /// <param name="data">The encoded image.</param>
    /// <param name="options">Decode options (pixel limit); null for defaults.</param>
    /// <returns>The displayed width and height.</returns>
    /// <exception cref="ImageDecodeException">Corrupt, zero-sized or too large.</exception>
    /// <exception cref="UnsupportedImageFormatException">Not a supported format.</exception>
    public static (int Width, int Height) Identify(ReadOnlySpan<byte> data, ImageDecodeOptions? options = null)
    {
        options ??= new ImageDecodeOptions();
        var container = Sniff(data);
        var (width, height, orientation) = container == ImageContainer.Tiff
            ? TiffImageDecoder.Identify(data)
            : SkiaImageDecoder.Identify(data, container);
        CheckSize(width, height, options.MaxPixels);
        bool swap = options.ApplyExifOrientation && ExifOrientation.SwapsSides(orientation);
        return swap ? (height, width) : (width, height);
    }

    /// <summary>Decodes an image to RGB.</summary>
    /// <param name="data">The encoded image.</param>
    /// <param name="options">Decode options; null for defaults.</param>
    /// <returns>The RGB picture.</returns>
    /// <exception cref="ImageDecodeException">Corrupt, truncated, zero-sized or too large.</exception>
    /// <exception cref="UnsupportedImageFormatException">Not a supported format.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> data, ImageDecodeOptions? options = null)
    {
        options ??= new ImageDecodeOptions();
        var container = Sniff(data);
        long maxPixels = options.MaxPixels;
        void Check(int width, int height) => CheckSize(width, height, maxPixels);
        DecodedPixels pixels = container == ImageContainer.Tiff
            ? TiffImageDecoder.Decode(data, Check)
            : SkiaImageDecoder.Decode(data, container, Check);
        return RgbConverter.Convert(pixels, options.AlphaHandling, options.ApplyExifOrientation);
    }

    private static ImageContainer Sniff(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            throw new ImageDecodeException("The image data is empty.");
        }

        var container = ImageContainerSniffer.Sniff(data);
        return container != ImageContainer.Unknown
            ? container
            : throw new UnsupportedImageFormatException($"The data is not a supported image format ({Supported}); it starts with {Convert.ToHexString(data[..Math.Min(8, data.Length)])}.");
    }

    private static void CheckSize(int width, int height, long maxPixels)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ImageDecodeException($"The image has no pixels ({width}x{height}).");
        }

        long pixels = (long)width * height;
        if (pixels > maxPixels)
        {
            throw new ImageTooLargeException($"The image is {width}x{height} = {pixels} pixels, over the limit of {maxPixels} (decompression-bomb guard; raise MaxImagePixels to accept it).");
        }
    }
}
