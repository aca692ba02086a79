using System.Buffers.Binary;
using SkiaSharp;

namespace Idefics3.Imaging;

/// <summary>
/// Decodes PNG, JPEG (libjpeg-turbo, as Pillow), WebP, GIF (first frame), BMP and ICO with Skia's codecs. The header is
/// read first (<see cref="OpenHeader"/>) so that the pixel limit is checked before a pixel buffer exists; only a fully
/// decoded picture is accepted (truncated or corrupt data is an error, as in Pillow). No colour management is applied
/// (Pillow ignores ICC profiles too).
/// </summary>
internal static class SkiaImageDecoder
{
    /// <summary>Reads the header: stored size and EXIF orientation.</summary>
    public static (int Width, int Height, int Orientation) Identify(ReadOnlySpan<byte> data, ImageContainer container)
    {
        using var data2 = Copy(data);
        using var codec = OpenHeader(data2, container);
        return (codec.Info.Width, codec.Info.Height, (int)codec.EncodedOrigin);
    }

    /// <summary>Decodes the first frame after checking its header with <paramref name="checkSize"/>.</summary>
    public static DecodedPixels Decode(ReadOnlySpan<byte> data, ImageContainer container, Action<int, int> checkSize)
    {
        using var skData = Copy(data);
        using var codec = OpenHeader(skData, container);
        int width = codec.Info.Width;
        int height = codec.Info.Height;
        checkSize(width, height);

        PixelLayout layout = container == ImageContainer.Png ? PngLayout(data) : PixelLayout.Rgba8;
        long bytes = (long)width * height * (layout == PixelLayout.Rgba8 ? 4 : 8);
        if (bytes > Array.MaxLength)
        {
            throw new ImageTooLargeException($"The image is {width}x{height}; its decode buffer of {bytes} bytes is over what one .NET array can hold.");
        }

        if (layout != PixelLayout.Rgba8)
        {
            return Png16Decoder.Decode(data, width, height, layout, (int)codec.EncodedOrigin);
        }

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var samples = new byte[bytes];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = samples)
            {
                result = codec.GetPixels(info, (IntPtr)p, width * 4, new SKCodecOptions(0));
            }
        }

        if (result != SKCodecResult.Success)
        {
            throw result == SKCodecResult.IncompleteInput
                ? new ImageDecodeException($"The {container} image is truncated: the data ends before the last pixel row ({width}x{height}).")
                : new ImageDecodeException($"The {container} image data is corrupt ({width}x{height}): the decoder reported {result}.");
        }

        return new DecodedPixels(width, height, layout, samples, (int)codec.EncodedOrigin);
    }

    private static SKData Copy(ReadOnlySpan<byte> data) => SKData.CreateCopy(data);

    private static SKCodec OpenHeader(SKData data, ImageContainer container)
    {
        // The codec owns the stream from here on (SkiaSharp hands it over), unless creation fails.
        var stream = new SKMemoryStream(data);
        var codec = SKCodec.Create(stream, out SKCodecResult result);
        if (codec is null)
        {
            stream.Dispose();
            throw result == SKCodecResult.IncompleteInput
                ? new ImageDecodeException($"The {container} image is truncated: the data ends inside its header.")
                : new ImageDecodeException($"The {container} image header is corrupt ({result}).");
        }

        return codec;
    }

    /// <summary>
    /// 16-bit PNGs are decoded at 16 bits and narrowed as Pillow does (high byte; gray clipped), since Skia would round
    /// them to 8 bits differently (<see cref="Png16Decoder"/>). Reads bit depth and colour type from IHDR (bytes 24 and 25 of the file).
    /// </summary>
    private static PixelLayout PngLayout(ReadOnlySpan<byte> data)
    {
        if (data.Length < 26 || !data.Slice(12, 4).SequenceEqual("IHDR"u8) || BinaryPrimitives.ReadInt32BigEndian(data[8..]) < 13)
        {
            return PixelLayout.Rgba8;
        }

        byte bitDepth = data[24];
        byte colorType = data[25];
        return bitDepth != 16 ? PixelLayout.Rgba8 : colorType == 0 ? PixelLayout.Gray16Clipped : PixelLayout.Rgba16;
    }
}
