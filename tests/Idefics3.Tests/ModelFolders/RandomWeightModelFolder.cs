using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Idefics3.Tests;

/// <summary>
/// A model folder made of genuine processor and tokenizer files plus random bfloat16 weights with the exact tensor names
/// and shapes of a real checkpoint (read from the approved parameter list, one <c>name [d0, d1]</c> per line).
/// </summary>
/// <remarks>
/// Weights are uniform with standard deviation 0.02, norm weights 1 and biases 0 (as the CLI benchmark writes them).
/// <para>To make answers deterministic without trained weights, <c>transitions</c> turns the text model into a bigram
/// machine: for each pair (from, to), the embedding of <c>from</c> gets a large value in a dimension of its own and
/// <c>lm_head</c>'s row of <c>to</c> reads that dimension. The residual stream of the last position is dominated by its
/// input token, so greedy decoding after <c>from</c> picks <c>to</c>; a chain such as ':' → "Hello" → &lt;|im_end|&gt; →
/// " world" → &lt;end_of_utterance&gt; fixes a whole answer and where it has to stop.</para>
/// </remarks>
internal static class RandomWeightModelFolder
{
    /// <summary>Names the way weights are written; change it whenever this class writes different bytes (folders are cached by it).</summary>
    public const string Version = "bigram-v1";

    private const int ChunkElements = 1 << 20;
    private const float EmbeddingMark = 8f;
    private const float HeadWeight = 4f;

    /// <summary>Writes <c>model.safetensors</c> into <paramref name="folder"/>.</summary>
    /// <param name="folder">The model folder (config and tokenizer files already there).</param>
    /// <param name="parameterList">The approved parameter list of the checkpoint.</param>
    /// <param name="transitions">Token pairs (from, to) the greedy answer must follow.</param>
    public static void WriteWeights(string folder, string parameterList, IReadOnlyList<(int From, int To)> transitions)
    {
        var tensors = File.ReadAllLines(parameterList).Where(l => l.Length > 0).Select(Parse).ToList();
        long hidden = tensors.Single(t => t.Name == "lm_head.weight").Shape[1];
        var marks = new Dictionary<string, SortedDictionary<long, float>>(StringComparer.Ordinal)
        {
            ["model.text_model.embed_tokens.weight"] = [],
            ["lm_head.weight"] = [],
        };
        for (int dim = 0; dim < transitions.Count; dim++)
        {
            (int from, int to) = transitions[dim];
            marks["model.text_model.embed_tokens.weight"][(from * hidden) + dim] = EmbeddingMark;
            marks["lm_head.weight"][(to * hidden) + dim] = HeadWeight;
        }

        Write(Path.Combine(folder, "model.safetensors"), tensors, marks);
    }

    private static (string Name, long[] Shape) Parse(string line)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        long[] shape = line[(space + 1)..].Trim('[', ']').Split(',').Select(s => long.Parse(s.Trim(), CultureInfo.InvariantCulture)).ToArray();
        return (line[..space], shape);
    }

    private static void Write(string path, List<(string Name, long[] Shape)> tensors, Dictionary<string, SortedDictionary<long, float>> marks)
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
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
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
            ushort constant = name.EndsWith(".bias", StringComparison.Ordinal) ? (ushort)0 : name.Contains("norm", StringComparison.Ordinal) ? (ushort)0x3F80 : (ushort)0xFFFF;
            marks.TryGetValue(name, out var tensorMarks);
            for (long done = 0; done < count; done += ChunkElements)
            {
                int n = (int)Math.Min(ChunkElements, count - done);
                Fill(chunk.AsSpan(0, n * 2), constant, ref state);
                if (tensorMarks is not null)
                {
                    foreach ((long index, float value) in tensorMarks.Where(m => m.Key >= done && m.Key < done + n))
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(chunk.AsSpan((int)(index - done) * 2), (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16));
                    }
                }

                file.Write(chunk, 0, n * 2);
            }
        }
    }

    /// <summary>bfloat16 bits of 65536 evenly spaced values of the uniform distribution on [-a, a], a = 0.02·√3 (standard deviation 0.02).</summary>
    private static readonly ushort[] s_uniform = [.. Enumerable.Range(0, 1 << 16).Select(k =>
        (ushort)(BitConverter.SingleToUInt32Bits((float)((((k + 0.5) / 65536.0 * 2) - 1) * 0.02 * Math.Sqrt(3))) >> 16))];

    private static void Fill(Span<byte> target, ushort constant, ref ulong state)
    {
        Span<ushort> values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(target);
        if (constant != 0xFFFF)
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
