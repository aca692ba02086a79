using System.Runtime.InteropServices;

namespace Idefics3.Runtime;

/// <summary>
/// The CPU instruction-set features that decide the default compute dtype: bfloat16 matrix products are fast on CPUs
/// with AVX512-BF16 or AMX, and slow (emulated) elsewhere.
/// </summary>
internal sealed class CpuFeatures
{
    private static readonly Lazy<CpuFeatures> s_current = new(Detect);

    private CpuFeatures(IReadOnlySet<string> flags) => Flags = flags;

    /// <summary>Gets the features of the CPU this process runs on (read once from <c>/proc/cpuinfo</c> on Linux).</summary>
    public static CpuFeatures Current => s_current.Value;

    /// <summary>Gets the CPU flags as the operating system reports them (lower case; empty when unknown).</summary>
    public IReadOnlySet<string> Flags { get; }

    /// <summary>Gets a value indicating whether the CPU has native bfloat16 dot products (AVX512-BF16 or AMX-BF16).</summary>
    public bool HasFastBFloat16 => Flags.Contains("avx512_bf16") || Flags.Contains("amx_bf16");

    /// <summary>Gets a value indicating whether the CPU has native float16 arithmetic (AVX512-FP16 or AMX-FP16).</summary>
    public bool HasFastFloat16 => Flags.Contains("avx512_fp16") || Flags.Contains("amx_fp16");

    /// <summary>Parses the flags of a <c>/proc/cpuinfo</c> text.</summary>
    /// <param name="cpuinfo">The text of <c>/proc/cpuinfo</c>.</param>
    /// <returns>The features it describes.</returns>
    public static CpuFeatures Parse(string cpuinfo)
    {
        ArgumentNullException.ThrowIfNull(cpuinfo);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            string key = line[..colon].Trim();
            if (key is "flags" or "Features")
            {
                foreach (string flag in line[(colon + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
                {
                    flags.Add(flag.ToLowerInvariant());
                }
            }
        }

        return new CpuFeatures(flags);
    }

    private static CpuFeatures Detect()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && File.Exists("/proc/cpuinfo"))
        {
            try
            {
                return Parse(File.ReadAllText("/proc/cpuinfo"));
            }
            catch (IOException)
            {
                // Fall through: unknown features.
            }
            catch (UnauthorizedAccessException)
            {
                // Fall through: unknown features.
            }
        }

        return new CpuFeatures(new HashSet<string>());
    }
}
