using System.Diagnostics;

namespace Idefics3.Modeling.FastDecode;

/// <summary>Accumulated time per <see cref="DecodePhase"/> over the steps run while it was attached (benchmarks).</summary>
internal sealed class DecodeProfile
{
    private readonly long[] _ticks = new long[Enum.GetValues<DecodePhase>().Length];

    /// <summary>Gets the number of steps recorded.</summary>
    public int Steps { get; private set; }

    /// <summary>Gets the mean milliseconds per step spent in <paramref name="phase"/>.</summary>
    /// <param name="phase">The phase.</param>
    /// <returns>Milliseconds per step (0 before any step).</returns>
    public double MillisecondsPerStep(DecodePhase phase) =>
        Steps == 0 ? 0 : _ticks[(int)phase] * 1000.0 / Stopwatch.Frequency / Steps;

    /// <summary>Clears the totals.</summary>
    public void Reset()
    {
        Array.Clear(_ticks);
        Steps = 0;
    }

    internal void Add(DecodePhase phase, long ticks) => _ticks[(int)phase] += ticks;

    internal void EndStep() => Steps++;
}
