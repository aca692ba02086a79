using System.Buffers.Binary;
using System.Text;

namespace Idefics3.Tests.Imaging;

/// <summary>Builds PNG files with arbitrary headers and chunk payloads (valid CRCs), for bad-input tests.</summary>
internal static class CraftedPng
{
    public static byte[] Build(int width, int height, byte[] idat)
    {
        return Assemble(width, height, bitDepth: 8, colorType: 2, interlaced: false, idat);
    }

    /// <summary>A 16-bit PNG (colour type 0, 2, 4 or 6) from big-endian samples, optionally Adam7-interlaced, rows unfiltered.</summary>
    public static byte[] Build16(int width, int height, byte colorType, ushort[] samples, bool interlaced)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
        using var raw = new MemoryStream();
        (int X0, int Y0, int Dx, int Dy)[] passes = interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)];
        foreach (var (x0, y0, dx, dy) in passes)
        {
            for (int y = y0; y < height; y += dy)
            {
                if (x0 >= width)
                {
                    continue;
                }

                raw.WriteByte(0);
                for (int x = x0; x < width; x += dx)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        ushort v = samples[(((y * width) + x) * channels) + c];
                        raw.WriteByte((byte)(v >> 8));
                        raw.WriteByte((byte)v);
                    }
                }
            }
        }

        using var idat = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(idat, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            raw.WriteTo(z);
        }

        return Assemble(width, height, bitDepth: 16, colorType, interlaced, idat.ToArray());
    }

    private static byte[] Assemble(int width, int height, byte bitDepth, byte colorType, bool interlaced, byte[] idat)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        ihdr[12] = (byte)(interlaced ? 1 : 0);
        Chunk(ms, "IHDR", ihdr);
        Chunk(ms, "IDAT", idat);
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        s.Write(crc);
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
