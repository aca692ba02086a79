using Idefics3.Checkpoints;

namespace Idefics3.Diagnostics;

/// <summary>What a model folder's safetensors headers say about its weights (no tensor data is read).</summary>
public static class CheckpointStatistics
{
    /// <summary>Counts the elements stored in each safetensors dtype (<c>F32</c>, <c>BF16</c>, ...).</summary>
    /// <param name="modelFolder">A folder with <c>model.safetensors</c> or a sharded index.</param>
    /// <returns>Elements per dtype name, ordered by name; their sum is the parameter count.</returns>
    /// <exception cref="CheckpointException">The checkpoint is missing or malformed.</exception>
    public static IReadOnlyDictionary<string, long> ElementsByDType(string modelFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelFolder);
        var byDType = new SortedDictionary<string, long>(StringComparer.Ordinal);
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(modelFolder);
        foreach (string name in checkpoint.Names)
        {
            SafetensorsEntry entry = checkpoint.Entry(name);
            byDType[entry.Dtype] = byDType.GetValueOrDefault(entry.Dtype) + entry.ElementCount;
        }

        return byDType;
    }
}
