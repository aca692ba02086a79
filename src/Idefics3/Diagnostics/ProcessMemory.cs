using Idefics3.Runtime;

namespace Idefics3.Diagnostics;

/// <summary>This process's resident memory, as benchmarks report it (Linux <c>/proc/self/status</c>; elsewhere the working set).</summary>
public static class ProcessMemory
{
    private const string StatusFile = "/proc/self/status";

    /// <summary>Gets the current resident set size in bytes (<c>VmRSS</c>).</summary>
    public static long CurrentResidentBytes => ProcStatus.ReadBytes(StatusFile, "VmRSS") ?? Environment.WorkingSet;

    /// <summary>Gets the peak resident set size of the process so far in bytes (<c>VmHWM</c>; elsewhere the current working set).</summary>
    public static long PeakResidentBytes => ProcStatus.ReadBytes(StatusFile, "VmHWM") ?? Environment.WorkingSet;
}
