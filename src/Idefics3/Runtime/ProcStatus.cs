using System.Globalization;

namespace Idefics3.Runtime;

/// <summary>Reads "Key:   N kB" lines of Linux <c>/proc</c> files (<c>/proc/meminfo</c>, <c>/proc/self/status</c>).</summary>
internal static class ProcStatus
{
    /// <summary>Returns the value of <paramref name="key"/> (for example <c>MemAvailable</c>) in bytes, or null when absent.</summary>
    public static long? ReadBytes(string file, string key)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        foreach (string line in File.ReadLines(file))
        {
            // The kernel pads with spaces or a tab: "VmHWM:\t 1234 kB", "MemTotal:       24560988 kB".
            string[] parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2 && parts[0] == key + ":" &&
                long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            {
                return parts.Length >= 3 && parts[2] == "kB" ? value * 1024 : value;
            }
        }

        return null;
    }
}
