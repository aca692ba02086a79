using System.Buffers.Binary;
using System.Text.Json;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Checkpoints;

/// <summary>
/// One safetensors file: a little-endian u64 header length, a JSON header (name → dtype, shape, data_offsets), then
/// the raw tensor bytes. The header is validated completely on open (sizes, offsets, overlaps), so a corrupt file
/// fails with a <see cref="CheckpointException"/> before any tensor is touched. Tensors are returned as zero-copy views
/// of a private memory map of the file (one map per file and dtype, pages read lazily by the OS).
/// </summary>
internal sealed class SafetensorsFile : IDisposable
{
    /// <summary>Headers larger than this are refused (real headers are well under 1 MB).</summary>
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    private readonly Dictionary<string, SafetensorsEntry> _entries;
    private readonly Dictionary<ScalarType, Tensor> _maps = [];
    private readonly long _dataStart;
    private readonly long _fileLength;
    private readonly DateTime _lastWriteUtc;
    private bool _disposed;

    private SafetensorsFile(string path, Dictionary<string, SafetensorsEntry> entries, long dataStart, long fileLength, DateTime lastWriteUtc)
    {
        FilePath = path;
        _entries = entries;
        _dataStart = dataStart;
        _fileLength = fileLength;
        _lastWriteUtc = lastWriteUtc;
    }

    /// <summary>Gets the path of the file.</summary>
    public string FilePath { get; }

    /// <summary>Gets the file's size and last-write time as they were when it was opened (the map covers that size).</summary>
    internal MappedFileStamp Stamp => new(FilePath, _fileLength, _lastWriteUtc);

    /// <summary>Gets the tensors the header describes, by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries => _entries;

    /// <summary>Opens a file and validates its header.</summary>
    /// <param name="path">The file path.</param>
    /// <returns>The open file.</returns>
    /// <exception cref="CheckpointException">The file is missing, truncated or its header is invalid.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new CheckpointException(path, "file not found");
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long length = stream.Length;
            DateTime lastWriteUtc = File.GetLastWriteTimeUtc(stream.SafeFileHandle);
            if (length < 8)
            {
                throw new CheckpointException(path, $"truncated: {length} bytes, fewer than the 8-byte header length prefix");
            }

            Span<byte> prefix = stackalloc byte[8];
            stream.ReadExactly(prefix);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > (ulong)(length - 8))
            {
                throw new CheckpointException(path, $"header length {headerLength} exceeds the {length - 8} bytes that follow it (truncated or not a safetensors file)");
            }

            if (headerLength > MaxHeaderBytes)
            {
                throw new CheckpointException(path, $"header length {headerLength} is implausibly large (limit {MaxHeaderBytes})");
            }

            byte[] header = new byte[headerLength];
            stream.ReadExactly(header);
            long dataStart = 8 + (long)headerLength;
            var entries = ParseHeader(path, header, length - dataStart);
            return new SafetensorsFile(path, entries, dataStart, length, lastWriteUtc);
        }
        catch (IOException ex)
        {
            throw new CheckpointException(path, "cannot read: " + ex.Message, ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new CheckpointException(path, "cannot read: " + ex.Message, ex);
        }
    }

    private static Dictionary<string, SafetensorsEntry> ParseHeader(string path, byte[] header, long dataLength)
    {
        // Checked first and in one pass: the JSON reader validates strings only when they are read, which is slow and
        // throws InvalidOperationException.
        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            throw new CheckpointException(path, "header is not valid UTF-8 (corrupt or not a safetensors file)");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException ex)
        {
            throw new CheckpointException(path, "header is not valid JSON: " + ex.Message, ex);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointException(path, "header is not a JSON object");
            }

            var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            foreach (JsonProperty property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    continue;
                }

                var entry = ParseEntry(path, property);
                if (!entries.TryAdd(entry.Name, entry))
                {
                    throw new CheckpointException(path, $"tensor '{entry.Name}' appears twice in the header");
                }

                if (entry.End > dataLength)
                {
                    throw new CheckpointException(path, $"tensor '{entry.Name}': data_offsets [{entry.Begin}, {entry.End}] run past the end of the data ({dataLength} bytes; file truncated?)");
                }
            }

            SafetensorsEntry? previous = null;
            foreach (var entry in entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.End))
            {
                if (previous is not null && entry.Begin < previous.End && entry.End > entry.Begin)
                {
                    throw new CheckpointException(path, $"tensors '{previous.Name}' [{previous.Begin}, {previous.End}) and '{entry.Name}' [{entry.Begin}, {entry.End}) overlap");
                }

                if (entry.End > entry.Begin)
                {
                    previous = entry;
                }
            }

            return entries;
        }
    }

    private static SafetensorsEntry ParseEntry(string path, JsonProperty property)
    {
        string name = property.Name;
        JsonElement e = property.Value;
        if (e.ValueKind != JsonValueKind.Object
            || !e.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !e.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !e.TryGetProperty("data_offsets", out JsonElement offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
        {
            throw new CheckpointException(path, $"tensor '{name}': header entry needs a string 'dtype', an array 'shape' and an array 'data_offsets'");
        }

        string dtype = dtypeElement.GetString()!;
        int elementSize = SafetensorsDtype.ElementSize(dtype)
            ?? throw new CheckpointException(path, $"tensor '{name}': unknown dtype '{dtype}'");
        var shape = new List<long>();
        long count = 1;
        foreach (JsonElement dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long d) || d < 0)
            {
                throw new CheckpointException(path, $"tensor '{name}': shape entry {dim.GetRawText()} is not a non-negative integer");
            }

            shape.Add(d);
            try
            {
                count = checked(count * d);
            }
            catch (OverflowException)
            {
                throw new CheckpointException(path, $"tensor '{name}': shape [{string.Join(", ", shape)}...] is too large");
            }
        }

        if (offsetsElement.GetArrayLength() != 2
            || !offsetsElement[0].TryGetInt64(out long begin) || !offsetsElement[1].TryGetInt64(out long end)
            || begin < 0 || end < begin)
        {
            throw new CheckpointException(path, $"tensor '{name}': data_offsets {offsetsElement.GetRawText()} must be two integers 0 <= begin <= end");
        }

        long expected;
        try
        {
            expected = checked(count * elementSize);
        }
        catch (OverflowException)
        {
            throw new CheckpointException(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] is too large");
        }

        if (end - begin != expected)
        {
            throw new CheckpointException(path, $"tensor '{name}': data_offsets span {end - begin} bytes but dtype {dtype} and shape [{string.Join(", ", shape)}] need {expected}");
        }

        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    /// <summary>
    /// Returns a tensor in the file's dtype. Where the data is aligned to the element size (always, for files written
    /// by the safetensors library), it is a view of the memory map and copies nothing; otherwise the bytes are read.
    /// </summary>
    /// <param name="name">The tensor name as stored.</param>
    /// <returns>A CPU tensor the caller owns.</returns>
    /// <exception cref="CheckpointException">The tensor is absent or its dtype is not F32, BF16 or F16.</exception>
    public Tensor Load(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_entries.TryGetValue(name, out SafetensorsEntry? entry))
        {
            throw new CheckpointException(FilePath, $"tensor '{name}' is not in this file");
        }

        ScalarType type = SafetensorsDtype.Loadable(entry.Dtype)
            ?? throw new CheckpointException(FilePath, $"tensor '{name}' has dtype {entry.Dtype}; only F32, BF16 and F16 can be loaded");
        int size = SafetensorsDtype.ElementSize(entry.Dtype)!.Value;
        long[] shape = [.. entry.Shape];
        long byteOffset = _dataStart + entry.Begin;
        try
        {
            if (byteOffset % size != 0)
            {
                return ReadCopy(entry, type, shape, byteOffset);
            }

            Tensor map = Map(type, size);
            using Tensor flat = map.narrow(0, byteOffset / size, entry.ElementCount);
            return flat.view(shape);
        }
        catch (Exception ex) when (ex is not CheckpointException and not OutOfMemoryException)
        {
            throw new CheckpointException(FilePath, $"tensor '{name}': cannot map: {ex.Message}", ex);
        }
    }

    /// <summary>Gets a value indicating whether <see cref="Load"/> returns a view of the file's memory map for this tensor.</summary>
    /// <param name="name">The tensor name as stored.</param>
    /// <returns>True when the tensor's data is aligned to its element size (it is read as a copy otherwise).</returns>
    internal bool LoadsAsView(string name) =>
        !ReadIntoMemory
        && _entries.TryGetValue(name, out SafetensorsEntry? entry)
        && SafetensorsDtype.ElementSize(entry.Dtype) is int size
        && (_dataStart + entry.Begin) % size == 0;

    /// <summary>
    /// Gets or sets a value indicating whether tensors are views of a copy of the file read into process memory (huge-page
    /// advised) instead of views of a memory map of the file. Set before the first <see cref="Load"/>.
    /// </summary>
    internal bool ReadIntoMemory { get; set; }

    private Tensor Map(ScalarType type, int elementSize)
    {
        if (!_maps.TryGetValue(type, out Tensor? map))
        {
            // The whole file typed as `type`: either MAP_PRIVATE (pages read on first touch, never written back) or a copy
            // read into the process's memory at once.
            map = ReadIntoMemory
                ? ResidentMemory.ReadFile(FilePath, _fileLength / elementSize, type, elementSize)
                : torch.from_file(FilePath, shared: false, size: _fileLength / elementSize, dtype: type);
            _maps[type] = map;
        }

        return map;
    }

    private Tensor ReadCopy(SafetensorsEntry entry, ScalarType type, long[] shape, long byteOffset)
    {
        byte[] bytes = new byte[entry.End - entry.Begin];
        using (var stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            stream.Seek(byteOffset, SeekOrigin.Begin);
            stream.ReadExactly(bytes);
        }

        Tensor result = torch.empty(shape, type);
        result.bytes = bytes;
        return result;
    }

    /// <summary>Releases the file maps. Tensors already returned keep their pages alive on their own.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (Tensor map in _maps.Values)
        {
            map.Dispose();
        }

        _maps.Clear();
    }
}
