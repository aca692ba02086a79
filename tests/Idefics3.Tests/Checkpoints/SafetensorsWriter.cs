using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Idefics3.Checkpoints;
using static TorchSharp.torch;

namespace Idefics3.Tests.Checkpoints;

/// <summary>Writes small (possibly deliberately broken) safetensors files for tests.</summary>
internal static class SafetensorsWriter
{
    public sealed record Item(string Name, string Dtype, long[] Shape, byte[] Data);

    public static Item F32(string name, long[] shape, params float[] values)
    {
        byte[] data = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), values[i]);
        }

        return new Item(name, "F32", shape, data);
    }

    public static Item FromTensor(string name, Tensor t)
    {
        string dtype = t.dtype switch
        {
            ScalarType.Float32 => "F32",
            ScalarType.BFloat16 => "BF16",
            ScalarType.Float16 => "F16",
            _ => throw new NotSupportedException(t.dtype.ToString()),
        };
        return new Item(name, dtype, t.shape, t.contiguous().bytes.ToArray());
    }

    /// <summary>Header JSON text for the items with sequential offsets.</summary>
    public static string Header(IEnumerable<Item> items)
    {
        var sb = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        foreach (Item item in items)
        {
            sb.Append(CultureInfo.InvariantCulture, $",\"{item.Name}\":{{\"dtype\":\"{item.Dtype}\",\"shape\":[{string.Join(",", item.Shape)}],\"data_offsets\":[{offset},{offset + item.Data.Length}]}}");
            offset += item.Data.Length;
        }

        return sb.Append('}').ToString();
    }

    public static void Write(string path, IEnumerable<Item> items, string? header = null, int align = 8)
    {
        var list = items.ToList();
        header ??= Header(list);
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        int padded = align <= 1 ? headerBytes.Length : (headerBytes.Length + align - 1) / align * align;
        using var stream = File.Create(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        stream.Write(prefix);
        stream.Write(headerBytes);
        for (int i = headerBytes.Length; i < padded; i++)
        {
            stream.WriteByte((byte)' ');
        }

        foreach (Item item in list)
        {
            stream.Write(item.Data);
        }
    }

    /// <summary>All tensors of a file as items (for rewriting a real checkpoint with changes).</summary>
    public static List<Item> ReadAll(string path)
    {
        using var file = SafetensorsFile.Open(path);
        var items = new List<Item>();
        foreach (SafetensorsEntry e in file.Entries.Values.OrderBy(e => e.Begin))
        {
            using Tensor t = file.Load(e.Name);
            items.Add(FromTensor(e.Name, t));
        }

        return items;
    }
}

/// <summary>A temporary directory deleted at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "idefics3-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
