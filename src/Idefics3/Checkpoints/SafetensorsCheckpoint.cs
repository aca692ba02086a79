using System.Text.Json;
using static TorchSharp.torch;

namespace Idefics3.Checkpoints;

/// <summary>
/// The weights of a model folder: a single <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c>. Tensor names are normalised to the Idefics3 module tree
/// (<c>model.language_model.</c> → <c>model.text_model.</c>, <c>model.vision_tower.</c> → <c>model.vision_model.</c>).
/// </summary>
internal sealed class SafetensorsCheckpoint : IDisposable
{
    /// <summary>The single-file checkpoint name.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>The shard index name.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private static readonly (string From, string To)[] PrefixSynonyms =
    [
        ("model.language_model.", "model.text_model."),
        ("model.vision_tower.", "model.vision_model."),
    ];

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, (SafetensorsFile File, string StoredName)> _tensors;

    private SafetensorsCheckpoint(List<SafetensorsFile> files, Dictionary<string, (SafetensorsFile, string)> tensors)
    {
        _files = files;
        _tensors = tensors;
    }

    /// <summary>
    /// Gets or sets a value indicating whether tensors are read into process memory (huge-page advised) instead of being
    /// views of memory maps of the files. Set before the first <see cref="Load"/>.
    /// </summary>
    internal bool ReadIntoMemory
    {
        get => _files.Count > 0 && _files[0].ReadIntoMemory;
        set => _files.ForEach(f => f.ReadIntoMemory = value);
    }

    /// <summary>Gets the normalised names of all tensors.</summary>
    public IReadOnlyCollection<string> Names => _tensors.Keys;

    /// <summary>Opens the checkpoint of a model folder (sharded if an index is present, else <c>model.safetensors</c>).</summary>
    /// <param name="modelFolder">The model folder.</param>
    /// <returns>The open checkpoint.</returns>
    /// <exception cref="CheckpointException">No checkpoint is found, or a file or the index is corrupt.</exception>
    public static SafetensorsCheckpoint Open(string modelFolder)
    {
        ArgumentNullException.ThrowIfNull(modelFolder);
        string index = Path.Combine(modelFolder, IndexFileName);
        if (File.Exists(index))
        {
            return OpenSharded(index);
        }

        string single = Path.Combine(modelFolder, SingleFileName);
        if (File.Exists(single))
        {
            return OpenFiles([single]);
        }

        throw new CheckpointException(modelFolder, $"no {SingleFileName} or {IndexFileName} in the model folder");
    }

    /// <summary>Opens one or more safetensors files as one checkpoint (names must be unique across files).</summary>
    /// <param name="paths">The file paths.</param>
    /// <returns>The open checkpoint.</returns>
    /// <exception cref="CheckpointException">A file is corrupt or two files hold the same tensor.</exception>
    public static SafetensorsCheckpoint OpenFiles(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = new List<SafetensorsFile>();
        try
        {
            var tensors = new Dictionary<string, (SafetensorsFile, string)>(StringComparer.Ordinal);
            foreach (string path in paths)
            {
                var file = SafetensorsFile.Open(path);
                files.Add(file);
                foreach (string stored in file.Entries.Keys)
                {
                    Add(tensors, file, stored);
                }
            }

            return new SafetensorsCheckpoint(files, tensors);
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }

    private static SafetensorsCheckpoint OpenSharded(string indexPath)
    {
        Dictionary<string, string> weightMap = ReadIndex(indexPath);
        string folder = Path.GetDirectoryName(indexPath) ?? ".";
        var files = new List<SafetensorsFile>();
        try
        {
            var byShard = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            var tensors = new Dictionary<string, (SafetensorsFile, string)>(StringComparer.Ordinal);
            foreach ((string stored, string shard) in weightMap)
            {
                if (shard.Contains('/', StringComparison.Ordinal) || shard.Contains('\\', StringComparison.Ordinal) || shard.Contains("..", StringComparison.Ordinal))
                {
                    throw new CheckpointException(indexPath, $"weight_map['{stored}'] = '{shard}' is not a file name in the model folder");
                }

                if (!byShard.TryGetValue(shard, out SafetensorsFile? file))
                {
                    file = SafetensorsFile.Open(Path.Combine(folder, shard));
                    files.Add(file);
                    byShard[shard] = file;
                }

                if (!file.Entries.ContainsKey(stored))
                {
                    throw new CheckpointException(indexPath, $"weight_map says tensor '{stored}' is in {shard}, but that file does not hold it");
                }

                Add(tensors, file, stored);
            }

            return new SafetensorsCheckpoint(files, tensors);
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }

    private static Dictionary<string, string> ReadIndex(string indexPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointException(indexPath, "expected a JSON object with a 'weight_map' object");
            }

            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                {
                    throw new CheckpointException(indexPath, $"weight_map['{p.Name}'] is not a file name");
                }

                result[p.Name] = p.Value.GetString()!;
            }

            return result;
        }
        catch (JsonException ex)
        {
            throw new CheckpointException(indexPath, "not valid JSON: " + ex.Message, ex);
        }
        catch (IOException ex)
        {
            throw new CheckpointException(indexPath, "cannot read: " + ex.Message, ex);
        }
    }

    private static void Add(Dictionary<string, (SafetensorsFile, string)> tensors, SafetensorsFile file, string stored)
    {
        string name = Normalize(stored);
        if (!tensors.TryAdd(name, (file, stored)))
        {
            (SafetensorsFile other, string otherStored) = tensors[name];
            throw new CheckpointException(
                file.FilePath,
                $"tensor '{stored}' duplicates '{otherStored}' in {Path.GetFileName(other.FilePath)} (same name after prefix normalisation: '{name}')");
        }
    }

    /// <summary>Maps alternative prefixes used by other transformers versions to the Idefics3 module tree names.</summary>
    /// <param name="name">A stored tensor name.</param>
    /// <returns>The canonical name.</returns>
    public static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach ((string from, string to) in PrefixSynonyms)
        {
            if (name.StartsWith(from, StringComparison.Ordinal))
            {
                return string.Concat(to, name.AsSpan(from.Length));
            }
        }

        return name;
    }

    /// <summary>Gets a value indicating whether the checkpoint holds a tensor.</summary>
    /// <param name="name">The canonical tensor name.</param>
    /// <returns>True if present.</returns>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>Gets the header entry of a tensor.</summary>
    /// <param name="name">The canonical tensor name.</param>
    /// <returns>The entry.</returns>
    public SafetensorsEntry Entry(string name) => Lookup(name).File.Entries[Lookup(name).StoredName];

    /// <summary>
    /// Loads a tensor converted to <paramref name="dtype"/>. When the file already holds that dtype the result is a
    /// zero-copy view of the memory-mapped file; otherwise it is one converted copy of this tensor only.
    /// </summary>
    /// <param name="name">The canonical tensor name.</param>
    /// <param name="dtype">The wanted dtype.</param>
    /// <returns>A CPU tensor the caller owns.</returns>
    /// <exception cref="CheckpointException">The tensor is absent or cannot be loaded.</exception>
    public Tensor Load(string name, ScalarType dtype)
    {
        (SafetensorsFile file, string stored) = Lookup(name);
        Tensor raw = file.Load(stored);
        if (raw.dtype == dtype)
        {
            return raw;
        }

        using (raw)
        {
            return raw.to_type(dtype);
        }
    }

    /// <summary>
    /// Gets the file a tensor comes from when <see cref="Load"/> with <paramref name="dtype"/> returns a view of the file's
    /// memory map (the model then reads the file for as long as it lives); null when the result is a copy.
    /// </summary>
    /// <param name="name">The canonical tensor name.</param>
    /// <param name="dtype">The wanted dtype.</param>
    /// <returns>The mapped file's stamp, or null.</returns>
    internal MappedFileStamp? MappedFileOf(string name, ScalarType dtype)
    {
        (SafetensorsFile file, string stored) = Lookup(name);
        return SafetensorsDtype.Loadable(file.Entries[stored].Dtype) == dtype && file.LoadsAsView(stored) ? file.Stamp : null;
    }

    private (SafetensorsFile File, string StoredName) Lookup(string name) =>
        _tensors.TryGetValue(name, out var hit) ? hit : throw new CheckpointException($"checkpoint has no tensor '{name}'");

    /// <summary>Releases the file maps; tensors already loaded stay valid.</summary>
    public void Dispose()
    {
        foreach (SafetensorsFile file in _files)
        {
            file.Dispose();
        }
    }
}
