using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Idefics3.Diagnostics;

/// <summary>
/// Writes a bfloat16 safetensors file of random weights, streaming each tensor in chunks so memory stays flat even for
/// the 17 GB Idefics3-8B shape. Values keep activations finite: norm weights are 1, biases 0, everything else uniform
/// with standard deviation 0.02 (the usual initialiser scale). Optional marks overwrite single elements (tests use them
/// to make a random model answer deterministically).
/// </summary>
internal static class RandomSafetensorsWriter
{
    private const int ChunkElements = 1 << 20;
    private const ushort RandomMarker = 0xFFFF;

    /// <summary>bfloat16 bits of 65536 evenly spaced values of the uniform distribution on [-a, a], a = 0.02·√3 (standard deviation 0.02).</summary>
    private static readonly ushort[] s_uniform = [.. Enumerable.Range(0, 1 << 16).Select(k =>
        (ushort)(BitConverter.SingleToUInt32Bits((float)((((k + 0.5) / 65536.0 * 2) - 1) * 0.02 * Math.Sqrt(3))) >> 16))];

    /// <summary>Writes the tensors to <paramref name="path"/> (through a <c>.partial</c> file, so a cancelled write leaves no file).</summary>
    /// <param name="path">The safetensors file.</param>
    /// <param name="tensors">Names and shapes, in file order.</param>
    /// <param name="marks">Per tensor name, flat element index → value written instead of the random value.</param>
    public static void Write(string path, IReadOnlyList<(string Name, long[] Shape)> tensors, IReadOnlyDictionary<string, SortedDictionary<long, float>>? marks = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        string temp = path + ".partial";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            WriteHeader(file, tensors);
            byte[] chunk = new byte[ChunkElements * 2];
            ulong state = 0x9E3779B97F4A7C15UL;
            foreach ((string name, long[] shape) in tensors)
            {
                long count = shape.Aggregate(1L, (a, b) => a * b);
                ushort constant = name.EndsWith(".bias", StringComparison.Ordinal) ? (ushort)0 : name.Contains("norm", StringComparison.Ordinal) ? (ushort)0x3F80 : RandomMarker;
                SortedDictionary<long, float>? tensorMarks = marks?.GetValueOrDefault(name);
                for (long done = 0; done < count; done += ChunkElements)
                {
                    int n = (int)Math.Min(ChunkElements, count - done);
                    Fill(chunk.AsSpan(0, n * 2), constant, ref state);
                    foreach ((long index, float value) in tensorMarks?.Where(m => m.Key >= done && m.Key < done + n) ?? [])
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(chunk.AsSpan((int)(index - done) * 2), (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16));
                    }

                    file.Write(chunk, 0, n * 2);
                }
            }
        }

        File.Move(temp, path, overwrite: true);
    }

    // The 8-byte little-endian header length, the JSON header (dtype, shape, data offsets per tensor), space padding to 8 bytes.
    private static void WriteHeader(FileStream file, IReadOnlyList<(string Name, long[] Shape)> tensors)
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
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        file.Write(length);
        file.Write(json);
        for (int i = json.Length; i < padded; i++)
        {
            file.WriteByte((byte)' ');
        }
    }

    private static void Fill(Span<byte> target, ushort constant, ref ulong state)
    {
        Span<ushort> values = MemoryMarshal.Cast<byte, ushort>(target);
        if (constant != RandomMarker)
        {
            values.Fill(constant);
            return;
        }

        // Four values per xorshift64 step, 16 random bits each (little-endian machines: ushort = bfloat16 layout).
        for (int i = 0; i < values.Length; i += 4)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ulong bits = state;
            for (int k = 0; k < 4 && i + k < values.Length; k++, bits >>= 16)
            {
                values[i + k] = s_uniform[(int)(bits & 0xFFFF)];
            }
        }
    }
}
