using System.Globalization;
using Idefics3.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Engine;

/// <summary>
/// Pre-flight check that the weights fit before any of them is loaded. Tensors stored in the compute dtype are
/// memory-mapped (page cache, shared with the file); the others become converted copies in anonymous memory.
/// </summary>
internal static class MemoryEstimate
{
    private const long Headroom = 512L * 1024 * 1024;

    public static (long MappedBytes, long CopiedBytes) Weights(string modelFolder, ScalarType dtype)
    {
        using SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(modelFolder);
        long mapped = 0, copied = 0;
        long targetSize = ElementSize(dtype);
        foreach (string name in checkpoint.Names)
        {
            SafetensorsEntry entry = checkpoint.Entry(name);
            if (SameDType(entry.Dtype, dtype))
            {
                mapped += entry.End - entry.Begin;
            }
            else
            {
                copied += entry.ElementCount * targetSize;
            }
        }

        return (mapped, copied);
    }

    public static void ThrowIfTooLarge(string modelFolder, ScalarType dtype, DeviceType device)
    {
        if (device != DeviceType.CPU || !TryReadMeminfo(out long total, out long available))
        {
            return;
        }

        (long mapped, long copied) = Weights(modelFolder, dtype);
        ThrowIfTooLarge(mapped, copied, total, available, dtype);
    }

    public static void ThrowIfTooLarge(long mapped, long copied, long total, long available, ScalarType dtype)
    {
        if (copied + Headroom > available || mapped + copied > total)
        {
            throw new InsufficientMemoryException(
                $"The model needs about {Gb(mapped + copied)} GB in {dtype} ({Gb(mapped)} GB memory-mapped, {Gb(copied)} GB converted copies), " +
                $"but this machine has {Gb(total)} GB of RAM with {Gb(available)} GB available. " +
                $"{(copied > 0 ? "Load it in the checkpoint's own dtype (bfloat16) to avoid the copies, or " : string.Empty)}" +
                "use a smaller model, or free memory.");
        }
    }

    private static bool SameDType(string safetensorsDtype, ScalarType dtype) => (safetensorsDtype, dtype) switch
    {
        ("F32", ScalarType.Float32) or ("BF16", ScalarType.BFloat16) or ("F16", ScalarType.Float16) => true,
        _ => false,
    };

    private static long ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => 4,
        _ => 2,
    };

    private static bool TryReadMeminfo(out long total, out long available)
    {
        total = Runtime.ProcStatus.ReadBytes("/proc/meminfo", "MemTotal") ?? 0;
        available = Runtime.ProcStatus.ReadBytes("/proc/meminfo", "MemAvailable") ?? 0;
        return total > 0 && available > 0;
    }

    private static string Gb(long bytes) => (bytes / 1e9).ToString("F1", CultureInfo.InvariantCulture);
}
