using System.Text.Json;
using Idefics3.Configuration;
using Idefics3.Diagnostics;
using Idefics3.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Cli.Commands;

/// <summary>What <c>idefics3 info</c> reports about a model folder, read from config.json and the safetensors headers only.</summary>
internal sealed record ModelSummary
{
    public required string Folder { get; init; }

    public required Idefics3Config Config { get; init; }

    public string? Architecture { get; init; }

    public string? ConfigDType { get; init; }

    /// <summary>Gets the total number of elements of all tensors in the checkpoint.</summary>
    public required long ParameterCount { get; init; }

    /// <summary>Gets the number of elements stored in each safetensors dtype (F32, BF16, ...).</summary>
    public required IReadOnlyDictionary<string, long> ElementsByDType { get; init; }

    public required long WeightFileBytes { get; init; }

    public required IReadOnlyList<(string Name, long Bytes)> Files { get; init; }

    /// <summary>Gets the KV cache bytes per token per byte of element size: 2 (K and V) x layers x KV heads x head dim.</summary>
    public long KvElementsPerToken => 2L * Config.Text.NumHiddenLayers * Config.Text.NumKeyValueHeads * Config.Text.HeadDim;

    public static ModelSummary Read(string folder)
    {
        Idefics3Config config = Idefics3Config.Load(folder);
        (string? architecture, string? configDType) = ReadExtras(Path.Combine(folder, Idefics3Config.FileName));
        IReadOnlyDictionary<string, long> byDType = CheckpointStatistics.ElementsByDType(folder);
        long parameters = byDType.Values.Sum();

        var files = new List<(string, long)>();
        foreach (string path in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
        {
            files.Add((Path.GetFileName(path), FileLength(path)));
        }

        return new ModelSummary
        {
            Folder = folder,
            Config = config,
            Architecture = architecture,
            ConfigDType = configDType,
            ParameterCount = parameters,
            ElementsByDType = byDType,
            WeightFileBytes = files.Where(f => f.Item1.EndsWith(".safetensors", StringComparison.Ordinal)).Sum(f => f.Item2),
            Files = files,
        };
    }

    /// <summary>
    /// The dtype the engine would compute in: an explicit choice, else bfloat16 on CUDA and on CPUs with native
    /// bfloat16, float32 elsewhere. With <c>--device auto</c> the estimate assumes the CPU (CUDA is not probed here).
    /// </summary>
    public static string ResolveDType(string dtype, string device)
    {
        if (dtype != "auto")
        {
            return dtype;
        }

        bool cuda = device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase);
        ScalarType chosen = Idefics3EngineOptions.ResolveDType(ModelDType.Auto, cuda ? DeviceType.CUDA : DeviceType.CPU);
        return chosen == ScalarType.BFloat16 ? "bfloat16" : "float32";
    }

    public static int ElementSize(string dtype) => dtype switch
    {
        "float32" => 4,
        _ => 2,
    };

    private static long FileLength(string path)
    {
        var info = new FileInfo(path);
        // Hub snapshots hold symlinks into blobs/: report the size of the file they point at.
        if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target && target.Exists)
        {
            return target.Length;
        }

        return info.Length;
    }

    private static (string? Architecture, string? DType) ReadExtras(string configPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
            JsonElement root = doc.RootElement;
            string? architecture = root.TryGetProperty("architectures", out JsonElement a) && a.ValueKind == JsonValueKind.Array && a.GetArrayLength() > 0
                ? a[0].GetString()
                : null;
            string? dtype = root.TryGetProperty("torch_dtype", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            return (architecture, dtype);
        }
        catch (JsonException)
        {
            // Idefics3Config.Load already validated the file; these fields are informational.
            return (null, null);
        }
    }
}
