using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Idefics3.Imaging;

/// <summary>
/// Decodes PNG, JPEG, WebP, GIF (first frame), BMP and TIFF with ImageSharp into 8-bit RGB: EXIF orientation applied,
/// grayscale and palette expanded, transparency flattened per <see cref="AlphaHandling"/>. The pixel limit is checked from
/// the header (<c>Image.Identify</c>) before any pixel is decoded.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Reads the size of an image from its header, with EXIF orientation applied (90/270 degree rotations swap the sides).</summary>
    /// <param name="data">The encoded image.</param>
    /// <param name="options">Decode options (pixel limit); null for defaults.</param>
    /// <returns>The displayed width and height.</returns>
    /// <exception cref="ImageDecodeException">Corrupt, zero-sized or too large.</exception>
    /// <exception cref="UnsupportedImageFormatException">Not a supported format.</exception>
    public static (int Width, int Height) Identify(ReadOnlySpan<byte> data, ImageDecodeOptions? options = null)
    {
        options ??= new ImageDecodeOptions();
        ImageInfo info = IdentifyChecked(data, options);
        bool swap = options.ApplyExifOrientation && OrientationSwapsSides(info.Metadata.ExifProfile);
        return swap ? (info.Height, info.Width) : (info.Width, info.Height);
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
        IdentifyChecked(data, options);
        Image<Rgba32> image;
        try
        {
            image = Image.Load<Rgba32>(new DecoderOptions { MaxFrames = 1, ColorProfileHandling = ColorProfileHandling.Preserve }, data);
        }
        catch (UnknownImageFormatException ex)
        {
            throw new UnsupportedImageFormatException("The data is not a supported image format (PNG, JPEG, WebP, GIF, BMP, TIFF).", ex);
        }
        catch (Exception ex) when (ex is InvalidImageContentException or ImageFormatException or InvalidOperationException or ArgumentException or IndexOutOfRangeException or NotSupportedException or EndOfStreamException)
        {
            throw new ImageDecodeException($"The image data is corrupt or truncated: {ex.Message}", ex);
        }

        using (image)
        {
            if (options.ApplyExifOrientation)
            {
                image.Mutate(x => x.AutoOrient());
            }

            int width = image.Width;
            int height = image.Height;
            var rgb = new byte[checked(width * height * 3)];
            bool composite = options.AlphaHandling == AlphaHandling.CompositeOnWhite;
            image.ProcessPixelRows(accessor =>
            {
                for (int y = 0; y < accessor.Height; y++)
                {
                    var row = accessor.GetRowSpan(y);
                    int o = y * width * 3;
                    for (int x = 0; x < row.Length; x++, o += 3)
                    {
                        Rgba32 p = row[x];
                        if (composite && p.A != 255)
                        {
                            rgb[o] = CompositeOnWhite(p.R, p.A);
                            rgb[o + 1] = CompositeOnWhite(p.G, p.A);
                            rgb[o + 2] = CompositeOnWhite(p.B, p.A);
                        }
                        else
                        {
                            rgb[o] = p.R;
                            rgb[o + 1] = p.G;
                            rgb[o + 2] = p.B;
                        }
                    }
                }
            });
            return new RgbImage(width, height, rgb);
        }
    }

    /// <summary>Pillow's <c>ImagingAlphaComposite</c> of a source pixel over opaque white (7 extra precision bits, rounded divisions).</summary>
    internal static byte CompositeOnWhite(byte channel, byte alpha)
    {
        if (alpha == 0)
        {
            return 255;
        }

        const int Bits = 7;
        uint blend = 255u * (255u - alpha);
        uint outa255 = (alpha * 255u) + blend;
        uint coef1 = alpha * 255u * 255u * (1u << Bits) / outa255;
        uint coef2 = (255u * (1u << Bits)) - coef1;
        uint tmp = (channel * coef1) + (255u * coef2) + (0x80u << Bits);
        return (byte)((((tmp >> 8) + tmp) >> 8) >> Bits);
    }

    private static ImageInfo IdentifyChecked(ReadOnlySpan<byte> data, ImageDecodeOptions options)
    {
        if (data.IsEmpty)
        {
            throw new ImageDecodeException("The image data is empty.");
        }

        ImageInfo info;
        try
        {
            info = Image.Identify(data);
        }
        catch (UnknownImageFormatException ex)
        {
            throw new UnsupportedImageFormatException("The data is not a supported image format (PNG, JPEG, WebP, GIF, BMP, TIFF).", ex);
        }
        catch (Exception ex) when (ex is InvalidImageContentException or ImageFormatException or InvalidOperationException or ArgumentException or IndexOutOfRangeException or NotSupportedException or EndOfStreamException)
        {
            throw new ImageDecodeException($"The image header is corrupt or truncated: {ex.Message}", ex);
        }

        if (info.Width <= 0 || info.Height <= 0)
        {
            throw new ImageDecodeException($"The image has no pixels ({info.Width}x{info.Height}).");
        }

        long pixels = (long)info.Width * info.Height;
        if (pixels > options.MaxPixels)
        {
            throw new ImageTooLargeException($"The image is {info.Width}x{info.Height} = {pixels} pixels, over the limit of {options.MaxPixels} (decompression-bomb guard; raise MaxImagePixels to accept it).");
        }

        return info;
    }

    private static bool OrientationSwapsSides(ExifProfile? exif)
    {
        if (exif is null || !exif.TryGetValue(ExifTag.Orientation, out var value))
        {
            return false;
        }

        return value.Value is >= 5 and <= 8;
    }
}
