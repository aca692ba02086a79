using System.Buffers.Binary;
using BitMiracle.LibTiff.Classic;
using SkiaSharp;

namespace Idefics3.Tests.Imaging;

/// <summary>
/// Encodes test pictures in every supported container: PNG, JPEG and WebP with Skia's encoders; BMP, GIF (optionally
/// animated), ICO, animated WebP and TIFF assembled here (TIFF through LibTiff.NET's writer).
/// </summary>
internal static class TestImages
{
    /// <summary>An RGBA picture: <c>width * height * 4</c> bytes, not premultiplied.</summary>
    public static byte[] Rgba(int width, int height, Func<int, int, (byte R, byte G, byte B, byte A)> pixel)
    {
        var rgba = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                var (r, g, b, a) = pixel(x, y);
                int o = ((y * width) + x) * 4;
                (rgba[o], rgba[o + 1], rgba[o + 2], rgba[o + 3]) = (r, g, b, a);
            }
        }

        return rgba;
    }

    /// <summary>Left half red, right half blue, with a faint gradient.</summary>
    public static byte[] Halves(int width, int height) =>
        Rgba(width, height, (x, y) => x < width / 2 ? ((byte)200, (byte)30, (byte)(30 + (y % 4)), (byte)255) : ((byte)20, (byte)40, (byte)220, (byte)255));

    /// <summary>A smooth photo-like picture with some noise (seeded).</summary>
    public static byte[] Photo(int width, int height, int seed = 1)
    {
        var random = new Random(seed);
        return Rgba(width, height, (x, y) => ((byte)((x * 255 / width) ^ random.Next(8)), (byte)(y * 255 / height), (byte)(((x + y) * 3) & 0xFF), (byte)255));
    }

    /// <summary>Encodes with Skia (PNG, JPEG, WebP).</summary>
    public static byte[] Skia(byte[] rgba, int width, int height, SKEncodedImageFormat format, int quality = 95)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    /// <summary>A PNG.</summary>
    public static byte[] Png(byte[] rgba, int width, int height) => Skia(rgba, width, height, SKEncodedImageFormat.Png);

    /// <summary>A baseline JPEG.</summary>
    public static byte[] Jpeg(byte[] rgba, int width, int height, int quality = 95) => Skia(rgba, width, height, SKEncodedImageFormat.Jpeg, quality);

    /// <summary>A lossless WebP.</summary>
    public static byte[] WebPLossless(byte[] rgba, int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var stream = new SKDynamicMemoryWStream();
        Assert.True(bitmap.PeekPixels().Encode(stream, new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 75)));
        using var data = stream.DetachAsData();
        return data.ToArray();
    }

    /// <summary>A lossy WebP.</summary>
    public static byte[] WebPLossy(byte[] rgba, int width, int height, int quality = 90) => Skia(rgba, width, height, SKEncodedImageFormat.Webp, quality);

    /// <summary>A 24-bit bottom-up BMP (alpha ignored).</summary>
    public static byte[] Bmp(byte[] rgba, int width, int height)
    {
        int stride = ((width * 3) + 3) & ~3;
        var file = new byte[54 + (stride * height)];
        "BM"u8.CopyTo(file);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(2), file.Length);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(28), 24);
        for (int y = 0; y < height; y++)
        {
            int row = 54 + ((height - 1 - y) * stride);
            for (int x = 0; x < width; x++)
            {
                int s = ((y * width) + x) * 4;
                (file[row + (x * 3)], file[row + (x * 3) + 1], file[row + (x * 3) + 2]) = (rgba[s + 2], rgba[s + 1], rgba[s]);
            }
        }

        return file;
    }

    /// <summary>
    /// A GIF with a 128-colour palette and one image per frame (each frame a palette-index array). The LZW stream uses
    /// 8-bit literal codes only, with a clear code every 100 codes, which every decoder reads.
    /// </summary>
    public static byte[] Gif(int width, int height, byte[] palette, params byte[][] frames)
    {
        using var ms = new MemoryStream();
        ms.Write("GIF89a"u8);
        WriteU16(ms, width);
        WriteU16(ms, height);
        ms.WriteByte(0xF6); // global colour table, 128 entries (2^(6+1))
        ms.WriteByte(0);
        ms.WriteByte(0);
        var table = new byte[128 * 3];
        palette.AsSpan(0, Math.Min(palette.Length, table.Length)).CopyTo(table);
        ms.Write(table);
        foreach (byte[] indices in frames)
        {
            ms.Write([0x21, 0xF9, 4, 0, 10, 0, 0, 0]); // graphic control: 0.1 s, no transparency
            ms.WriteByte(0x2C);
            WriteU16(ms, 0);
            WriteU16(ms, 0);
            WriteU16(ms, width);
            WriteU16(ms, height);
            ms.WriteByte(0);
            ms.WriteByte(7); // LZW minimum code size: clear = 128, end = 129, codes are 8 bits wide
            var codes = new List<byte> { 128 };
            for (int i = 0; i < indices.Length; i++)
            {
                if (i > 0 && i % 100 == 0)
                {
                    codes.Add(128);
                }

                codes.Add(indices[i]);
            }

            codes.Add(129);
            for (int i = 0; i < codes.Count; i += 255)
            {
                int n = Math.Min(255, codes.Count - i);
                ms.WriteByte((byte)n);
                ms.Write(codes.GetRange(i, n).ToArray());
            }

            ms.WriteByte(0);
        }

        ms.WriteByte(0x3B);
        return ms.ToArray();
    }

    /// <summary>An ICO holding the given PNGs (each entry's size read from its IHDR).</summary>
    public static byte[] Ico(params byte[][] pngs)
    {
        using var ms = new MemoryStream();
        ms.Write([0, 0, 1, 0]);
        WriteU16(ms, pngs.Length);
        int offset = 6 + (16 * pngs.Length);
        foreach (byte[] png in pngs)
        {
            int w = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16));
            int h = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
            ms.WriteByte((byte)(w >= 256 ? 0 : w));
            ms.WriteByte((byte)(h >= 256 ? 0 : h));
            ms.Write([0, 0]);
            WriteU16(ms, 1);
            WriteU16(ms, 32);
            WriteU32(ms, png.Length);
            WriteU32(ms, offset);
            offset += png.Length;
        }

        foreach (byte[] png in pngs)
        {
            ms.Write(png);
        }

        return ms.ToArray();
    }

    /// <summary>An animated WebP (VP8X + ANIM + one ANMF per frame, each frame a lossless bitstream encoded by Skia).</summary>
    public static byte[] AnimatedWebP(int width, int height, params byte[][] rgbaFrames)
    {
        using var body = new MemoryStream();
        var vp8x = new byte[10];
        vp8x[0] = 0x02 | 0x10; // animation, alpha
        WriteU24(vp8x.AsSpan(4), width - 1);
        WriteU24(vp8x.AsSpan(7), height - 1);
        Chunk(body, "VP8X", vp8x);
        Chunk(body, "ANIM", [255, 255, 255, 255, 0, 0]);
        foreach (byte[] frame in rgbaFrames)
        {
            byte[] still = WebPLossless(frame, width, height);
            var header = new byte[16];
            WriteU24(header.AsSpan(6), width - 1);
            WriteU24(header.AsSpan(9), height - 1);
            WriteU24(header.AsSpan(12), 100);
            header[15] = 0x02; // no blending
            Chunk(body, "ANMF", [.. header, .. still.AsSpan(12)]);
        }

        using var file = new MemoryStream();
        file.Write("RIFF"u8);
        WriteU32(file, 4 + (int)body.Length);
        file.Write("WEBP"u8);
        body.WriteTo(file);
        return file.ToArray();
    }

    /// <summary>An RGB(A) TIFF written by LibTiff.NET (stored rows top to bottom, optional Orientation tag, compression).</summary>
    public static byte[] Tiff(byte[] rgba, int width, int height, bool alpha = false, int orientation = 1, Compression compression = Compression.NONE, int rowsPerStrip = 8)
    {
        using var ms = new MemoryStream();
        using (var tiff = BitMiracle.LibTiff.Classic.Tiff.ClientOpen("test", "w", ms, new TiffStream()))
        {
            int spp = alpha ? 4 : 3;
            tiff.SetField(TiffTag.IMAGEWIDTH, width);
            tiff.SetField(TiffTag.IMAGELENGTH, height);
            tiff.SetField(TiffTag.SAMPLESPERPIXEL, spp);
            tiff.SetField(TiffTag.BITSPERSAMPLE, 8);
            tiff.SetField(TiffTag.PHOTOMETRIC, Photometric.RGB);
            tiff.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
            tiff.SetField(TiffTag.COMPRESSION, compression);
            tiff.SetField(TiffTag.ROWSPERSTRIP, rowsPerStrip);
            tiff.SetField(TiffTag.ORIENTATION, (Orientation)orientation);
            if (alpha)
            {
                tiff.SetField(TiffTag.EXTRASAMPLES, 1, new short[] { (short)ExtraSample.ASSOCALPHA });
            }

            var row = new byte[width * spp];
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    for (int c = 0; c < spp; c++)
                    {
                        row[(x * spp) + c] = rgba[(((y * width) + x) * 4) + c];
                    }
                }

                Assert.True(tiff.WriteScanline(row, y));
            }

            tiff.WriteDirectory();
            tiff.Flush();
        }

        return ms.ToArray();
    }

    /// <summary>Palette indices for <paramref name="rgba"/> against a 128-entry palette of the given colours (nearest by index of equality, else 0).</summary>
    public static byte[] Indices(byte[] rgba, byte[] palette)
    {
        var indices = new byte[rgba.Length / 4];
        for (int i = 0; i < indices.Length; i++)
        {
            for (int p = 0; p < palette.Length / 3; p++)
            {
                if (palette[p * 3] == rgba[i * 4] && palette[(p * 3) + 1] == rgba[(i * 4) + 1] && palette[(p * 3) + 2] == rgba[(i * 4) + 2])
                {
                    indices[i] = (byte)p;
                    break;
                }
            }
        }

        return indices;
    }

    private static void Chunk(Stream s, string fourcc, byte[] payload)
    {
        s.Write(System.Text.Encoding.ASCII.GetBytes(fourcc));
        WriteU32(s, payload.Length);
        s.Write(payload);
        if (payload.Length % 2 == 1)
        {
            s.WriteByte(0);
        }
    }

    private static void WriteU16(Stream s, int v) => s.Write([(byte)v, (byte)(v >> 8)]);

    private static void WriteU32(Stream s, int v) => s.Write([(byte)v, (byte)(v >> 8), (byte)(v >> 16), (byte)(v >> 24)]);

    private static void WriteU24(Span<byte> s, int v) => (s[0], s[1], s[2]) = ((byte)v, (byte)(v >> 8), (byte)(v >> 16));
}
