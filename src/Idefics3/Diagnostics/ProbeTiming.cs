using System.Diagnostics;

namespace Idefics3.Diagnostics;

/// <summary>Small helpers the probes share.</summary>
internal static class ProbeTiming
{
    /// <summary>The wall time of <paramref name="action"/> in milliseconds.</summary>
    public static double Milliseconds(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>The index of the largest value (the first one on ties): a greedy pick.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
