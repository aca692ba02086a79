using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Idefics3.Cli.Bench;

/// <summary>
/// Writes a bfloat16 safetensors file of random weights, streaming each tensor in chunks so memory stays flat even for
/// the 17 GB Idefics3-8B shape. Values keep activations finite: norm weights are 1, biases 0, everything else uniform
/// with standard deviation 0.02 (the usual initialiser scale).
/// </summary>
internal static class RandomSafetensorsWriter
{
    private const int ChunkElements = 1 << 20;

    public static void Write(string path, IReadOnlyList<(string Name, long[] Shape)> tensors)
    {
        var header = new Dictionary<string, object>(StringComparer.Ordinal) { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach ((string name, long[] shape) in tensors)
        {
            long bytes = shape.Aggregate(1L, (a, b) => a * b) * 2;
            header[name] = new { dtype = "BF16", shape, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
        }

        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        string temp = path + ".partial";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            file.Write(length);
            file.Write(json);
            for (int i = json.Length; i < padded; i++)
            {
                file.WriteByte((byte)' ');
            }

            byte[] chunk = new byte[ChunkElements * 2];
            ulong state = 0x9E3779B97F4A7C15UL;
            foreach ((string name, long[] shape) in tensors)
            {
                long count = shape.Aggregate(1L, (a, b) => a * b);
                Kind kind = KindOf(name);
                for (long done = 0; done < count; done += ChunkElements)
                {
                    int n = (int)Math.Min(ChunkElements, count - done);
                    Fill(chunk.AsSpan(0, n * 2), kind, ref state);
                    file.Write(chunk, 0, n * 2);
                }
            }
        }

        File.Move(temp, path, overwrite: true);
    }

    private enum Kind
    {
        Random,
        Ones,
        Zeros,
    }

    private static Kind KindOf(string name)
    {
        if (name.EndsWith(".bias", StringComparison.Ordinal))
        {
            return Kind.Zeros;
        }

        return name.Contains("norm", StringComparison.Ordinal) ? Kind.Ones : Kind.Random;
    }

    private static void Fill(Span<byte> target, Kind kind, ref ulong state)
    {
        const float Scale = 0.02f * 1.7320508f; // uniform [-a, a] has standard deviation a / sqrt(3)
        ushort constant = kind == Kind.Ones ? (ushort)0x3F80 : (ushort)0;
        for (int i = 0; i < target.Length; i += 2)
        {
            ushort bits = constant;
            if (kind == Kind.Random)
            {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                float u = ((state >> 40) * (1.0f / (1 << 24)) * 2f) - 1f;
                bits = (ushort)(BitConverter.SingleToUInt32Bits(u * Scale) >> 16);
            }

            BinaryPrimitives.WriteUInt16LittleEndian(target[i..], bits);
        }
    }
}
