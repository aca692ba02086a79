using System.Runtime.InteropServices;

namespace Idefics3.Cli.Bench;

/// <summary>The calling thread's CPU time (Linux <c>getrusage(RUSAGE_THREAD)</c>): unlike wall time, not inflated when the machine is busy.</summary>
internal static partial class ThreadCpu
{
    private const int RusageThread = 1;

    /// <summary>Gets whether thread CPU time can be read here.</summary>
    public static bool IsAvailable { get; } = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64 && TryRead(out _);

    /// <summary>The thread's user + system CPU time in milliseconds (0 where unavailable).</summary>
    public static double Milliseconds() => IsAvailable && TryRead(out double ms) ? ms : 0;

    private static bool TryRead(out double milliseconds)
    {
        milliseconds = 0;
        if (GetRUsage(RusageThread, out RUsage usage) != 0)
        {
            return false;
        }

        milliseconds = ((usage.UserSeconds + usage.SystemSeconds) * 1000.0) + ((usage.UserMicroseconds + usage.SystemMicroseconds) / 1000.0);
        return true;
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRUsage(int who, out RUsage usage);

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;

        // The remaining 14 longs of struct rusage (memory and I/O counters) are not read.
        public long F0, F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12, F13;
    }
}
