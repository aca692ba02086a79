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
            int s = y * width * bpp;
            int o = start;
            for (int x = 0; x < width; x++, s += bpp, o += step)
            {
                byte r, g, b, a;
                switch (pixels.Layout)
                {
                    case PixelLayout.Rgba8:
                        (r, g, b, a) = (src[s], src[s + 1], src[s + 2], src[s + 3]);
                        break;
                    case PixelLayout.Rgba16:
                        (r, g, b, a) = (src[s + 1], src[s + 3], src[s + 5], src[s + 7]);
                        break;
                    default:
                        r = g = b = src[s + 1] == 0 ? src[s] : (byte)255;
                        a = src[s + 7];
                        break;
                }

                if (composite && a != 255)
                {
                    (r, g, b) = (CompositeOnWhite(r, a), CompositeOnWhite(g, a), CompositeOnWhite(b, a));
                }

                rgb[o] = r;
                rgb[o + 1] = g;
                rgb[o + 2] = b;
            }
        }

        return new RgbImage(outWidth, outHeight, rgb);
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
