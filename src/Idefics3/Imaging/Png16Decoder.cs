using System.Buffers.Binary;
using System.IO.Compression;

namespace Idefics3.Imaging;

/// <summary>
/// Decodes 16-bit-per-sample PNGs (gray, gray+alpha, RGB, RGBA; interlaced or not) keeping all 16 bits, so that they
/// can be narrowed exactly as Pillow does (<see cref="PixelLayout.Rgba16"/>, <see cref="PixelLayout.Gray16Clipped"/>);
/// Skia can only hand them out rounded to 8 bits. The header has already been validated and size-checked by Skia's
/// codec; rows are inflated one at a time into the output buffer (no whole-image intermediate). Chunk CRCs are
/// verified and a truncated or corrupt stream is an <see cref="ImageDecodeException"/>, as in Pillow.
/// </summary>
internal static class Png16Decoder
{
    private static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Decodes the PNG in <paramref name="data"/> (16-bit, already size-checked) to 16-bit RGBA.</summary>
    public static DecodedPixels Decode(ReadOnlySpan<byte> data, int width, int height, PixelLayout layout, int orientation)
    {
        int colorType = data[25];
        bool interlaced = data[28] == 1;
        int channels = colorType switch
        {
            0 => 1,
            2 => 3,
            4 => 2,
            6 => 4,
            _ => throw new ImageDecodeException($"The PNG declares 16-bit samples with colour type {colorType}, which the PNG specification does not allow."),
        };

        ushort[]? key = null;
        using var idat = new MemoryStream();
        int pos = 8;
        bool ended = false;
        while (!ended)
        {
            if (data.Length - pos < 12)
            {
                throw new ImageDecodeException("The PNG image is truncated: the data ends before the IEND chunk.");
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            if (length > (uint)(data.Length - pos - 12))
            {
                throw new ImageDecodeException($"The PNG image is truncated or corrupt: a chunk at byte {pos} declares {length} bytes, more than the file holds.");
            }

            var typeAndBody = data.Slice(pos + 4, 4 + (int)length);
            if (Crc(typeAndBody) != BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]))
            {
                throw new ImageDecodeException($"The PNG image is corrupt: the CRC of the chunk at byte {pos} does not match.");
            }

            var type = typeAndBody[..4];
            var body = typeAndBody[4..];
            if (type.SequenceEqual("IDAT"u8))
            {
                idat.Write(body);
            }
            else if (type.SequenceEqual("tRNS"u8) && (colorType is 0 or 2) && body.Length >= channels * 2)
            {
                key = new ushort[channels];
                for (int c = 0; c < channels; c++)
                {
                    key[c] = BinaryPrimitives.ReadUInt16BigEndian(body[(c * 2)..]);
                }
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                ended = true;
            }

            pos += 12 + (int)length;
        }

        var samples = new byte[(long)width * height * 8];
        idat.Position = 0;
        try
        {
            using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
            foreach (var (x0, y0, dx, dy) in interlaced ? Adam7 : [(0, 0, 1, 1)])
            {
                int passWidth = (width - x0 + dx - 1) / dx;
                int passHeight = (height - y0 + dy - 1) / dy;
                if (passWidth > 0 && passHeight > 0)
                {
                    ReadPass(zlib, samples, width, channels, key, x0, y0, dx, dy, passWidth, passHeight);
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            throw new ImageDecodeException($"The PNG image data is truncated or corrupt ({width}x{height}, 16-bit): {ex.Message}", ex);
        }

        return new DecodedPixels(width, height, layout, samples, orientation);
    }

    private static void ReadPass(Stream zlib, byte[] samples, int width, int channels, ushort[]? key, int x0, int y0, int dx, int dy, int passWidth, int passHeight)
    {
        int bpp = channels * 2;
        int rowBytes = passWidth * bpp;
        var row = new byte[rowBytes + 1];
        var prior = new byte[rowBytes];
        for (int j = 0; j < passHeight; j++)
        {
            zlib.ReadExactly(row);
            Unfilter(row[0], row.AsSpan(1), prior, bpp);
            row.AsSpan(1).CopyTo(prior);
            int y = y0 + (j * dy);
            for (int i = 0; i < passWidth; i++)
            {
                int s = i * bpp;
                int o = ((y * width) + x0 + (i * dx)) * 8;
                ushort r, g, b, a;
                if (channels <= 2)
                {
                    r = g = b = BinaryPrimitives.ReadUInt16BigEndian(prior.AsSpan(s));
                    a = channels == 2 ? BinaryPrimitives.ReadUInt16BigEndian(prior.AsSpan(s + 2)) : (key is not null && key[0] == r ? (ushort)0 : ushort.MaxValue);
                }
                else
                {
                    r = BinaryPrimitives.ReadUInt16BigEndian(prior.AsSpan(s));
                    g = BinaryPrimitives.ReadUInt16BigEndian(prior.AsSpan(s + 2));
                    b = BinaryPrimitives.ReadUInt16BigEndian(prior.AsSpan(s + 4));
                    a = channels == 4 ? BinaryPrimitives.ReadUInt16BigEndian(prior.AsSpan(s + 6)) : (key is not null && key[0] == r && key[1] == g && key[2] == b ? (ushort)0 : ushort.MaxValue);
                }

                BinaryPrimitives.WriteUInt16LittleEndian(samples.AsSpan(o), r);
                BinaryPrimitives.WriteUInt16LittleEndian(samples.AsSpan(o + 2), g);
                BinaryPrimitives.WriteUInt16LittleEndian(samples.AsSpan(o + 4), b);
                BinaryPrimitives.WriteUInt16LittleEndian(samples.AsSpan(o + 6), a);
            }
        }
    }

    /// <summary>Undoes one PNG row filter in place (<paramref name="prior"/> is the previous unfiltered row of the pass, zeros for the first).</summary>
    private static void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> prior, int bpp)
    {
        switch (filter)
        {
            case 0:
                break;
            case 1:
                for (int i = bpp; i < row.Length; i++)
                {
                    row[i] += row[i - bpp];
                }

                break;
            case 2:
                for (int i = 0; i < row.Length; i++)
                {
                    row[i] += prior[i];
                }

                break;
            case 3:
                for (int i = 0; i < row.Length; i++)
                {
                    row[i] += (byte)(((i >= bpp ? row[i - bpp] : 0) + prior[i]) >> 1);
                }

                break;
            case 4:
                for (int i = 0; i < row.Length; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0;
                    int b = prior[i];
                    int c = i >= bpp ? prior[i - bpp] : 0;
                    int p = a + b - c;
                    int pa = Math.Abs(p - a);
                    int pb = Math.Abs(p - b);
                    int pc = Math.Abs(p - c);
                    row[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }

                break;
            default:
                throw new ImageDecodeException($"The PNG image data is corrupt: unknown row filter {filter}.");
        }
    }

    private static uint Crc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
