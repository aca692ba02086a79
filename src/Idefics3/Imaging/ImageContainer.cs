namespace Idefics3.Imaging;

/// <summary>The container formats the decoder recognises by their magic bytes.</summary>
internal enum ImageContainer
{
    /// <summary>No known signature.</summary>
    Unknown = 0,

    /// <summary>PNG (<c>89 50 4E 47 0D 0A 1A 0A</c>).</summary>
    Png,

    /// <summary>JPEG (<c>FF D8 FF</c>).</summary>
    Jpeg,

    /// <summary>GIF87a / GIF89a.</summary>
    Gif,

    /// <summary>WebP (<c>RIFF....WEBP</c>).</summary>
    WebP,

    /// <summary>Windows bitmap (<c>BM</c>).</summary>
    Bmp,

    /// <summary>Windows icon (<c>00 00 01 00</c>).</summary>
    Ico,

    /// <summary>TIFF, little or big endian (<c>II*\0</c> / <c>MM\0*</c>).</summary>
    Tiff,
}

/// <summary>Recognises an <see cref="ImageContainer"/> from the first bytes of a file.</summary>
internal static class ImageContainerSniffer
{
    /// <summary>Returns the container whose signature starts <paramref name="data"/>.</summary>
    public static ImageContainer Sniff(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return ImageContainer.Png;
        }

        if (data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return ImageContainer.Jpeg;
        }

        if (data.StartsWith("GIF87a"u8) || data.StartsWith("GIF89a"u8))
        {
            return ImageContainer.Gif;
        }

        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            return ImageContainer.WebP;
        }

        if (data.StartsWith("BM"u8))
        {
            return ImageContainer.Bmp;
        }

        if (data.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0x01, 0x00]))
        {
            return ImageContainer.Ico;
        }

        if (data.StartsWith("II*\0"u8) || data.StartsWith("MM\0*"u8))
        {
            return ImageContainer.Tiff;
        }

        return ImageContainer.Unknown;
    }
}
