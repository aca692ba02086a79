namespace Idefics3.Imaging;

/// <summary>
/// Turns decoded RGBA samples into 8-bit RGB as Pillow's <c>convert("RGB")</c> does (alpha dropped) or after Pillow's
/// <c>alpha_composite</c> over white, applying the EXIF orientation (<see cref="ExifOrientation"/>) in the same pass so
/// that no third buffer is needed.
/// </summary>
internal static class RgbConverter
{
    /// <summary>Converts <paramref name="pixels"/> to RGB.</summary>
    /// <param name="pixels">The decoded samples.</param>
    /// <param name="alphaHandling">How transparency is flattened.</param>
    /// <param name="applyOrientation">Whether the EXIF orientation is applied.</param>
    /// <returns>The displayed RGB picture.</returns>
    public static RgbImage Convert(DecodedPixels pixels, AlphaHandling alphaHandling, bool applyOrientation)
    {
        int width = pixels.Width;
        int height = pixels.Height;
        int orientation = applyOrientation ? pixels.Orientation : 1;
        bool swap = ExifOrientation.SwapsSides(orientation);
        int outWidth = swap ? height : width;
        int outHeight = swap ? width : height;
        var rgb = new byte[checked(width * height * 3)];
        bool composite = alphaHandling == AlphaHandling.CompositeOnWhite;
        int bpp = pixels.BytesPerPixel;
        byte[] src = pixels.Samples;

        for (int y = 0; y < height; y++)
        {
            var (x0, y0) = ExifOrientation.Map(orientation, 0, y, width, height);
            var (x1, y1) = ExifOrientation.Map(orientation, 1, y, width, height);
            int start = ((y0 * outWidth) + x0) * 3;
            int step = (((y1 * outWidth) + x1) * 3) - start;
            ReadOnlySpan<byte> row = src.AsSpan(y * width * bpp, width * bpp);
            switch (pixels.Layout)
            {
                case PixelLayout.Rgba8:
                    ConvertRow(row, 4, 0, 1, 2, 3, false, composite, rgb, start, step);
                    break;
                case PixelLayout.Rgba16:
                    ConvertRow(row, 8, 1, 3, 5, 7, false, composite, rgb, start, step);
                    break;
                default:
                    ConvertRow(row, 8, 0, 0, 0, 7, true, composite, rgb, start, step);
                    break;
            }
        }

        return new RgbImage(outWidth, outHeight, rgb);
    }

    /// <summary>
    /// Converts one stored row: channel offsets <paramref name="r"/>, <paramref name="g"/>, <paramref name="b"/>,
    /// <paramref name="a"/> within each <paramref name="bpp"/>-byte pixel (the high byte for 16-bit samples), or Pillow's
    /// clipped 16-bit gray when <paramref name="gray16"/>; output pixels start at <paramref name="start"/> and advance
    /// by <paramref name="step"/> bytes (the orientation's direction).
    /// </summary>
    private static void ConvertRow(ReadOnlySpan<byte> row, int bpp, int r, int g, int b, int a, bool gray16, bool composite, byte[] rgb, int start, int step)
    {
        int o = start;
        for (int s = 0; s < row.Length; s += bpp, o += step)
        {
            byte alpha = row[s + a];
            byte red, green, blue;
            if (gray16)
            {
                red = green = blue = row[s + 1] == 0 ? row[s] : (byte)255;
            }
            else
            {
                (red, green, blue) = (row[s + r], row[s + g], row[s + b]);
            }

            if (composite && alpha != 255)
            {
                (red, green, blue) = (CompositeOnWhite(red, alpha), CompositeOnWhite(green, alpha), CompositeOnWhite(blue, alpha));
            }

            rgb[o] = red;
            rgb[o + 1] = green;
            rgb[o + 2] = blue;
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
}
