using System.Diagnostics;
using Idefics3.Runtime;
using Xunit.Abstractions;

namespace Idefics3.Tests.Campaign;

/// <summary>
/// Runs one hostile case and measures it: wall time and the peak growth of resident memory (managed and native
/// together: /proc/self/status VmRSS sampled every 2 ms on another thread, minus the value before the case). Each case
/// must end with a result or one of the expected exception types, within its time and memory bounds. The campaign runs
/// alone (its collection disables parallelization) so other tests do not add to the memory figures.
/// </summary>
internal sealed class CampaignProbe
{
    private readonly ITestOutputHelper _output;
    private readonly List<(string Case, string Outcome, double Seconds, long PeakMb)> _rows = [];

    public CampaignProbe(ITestOutputHelper output) => _output = output;

    /// <summary>Gets a value indicating whether the larger, longer variant runs (<c>IDEFICS3_CAMPAIGN=large</c>).</summary>
    public static bool Large => string.Equals(Environment.GetEnvironmentVariable("IDEFICS3_CAMPAIGN"), "large", StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs a case and returns the exception it ended with (null for a result).</summary>
    /// <param name="name">The case name, printed with its figures.</param>
    /// <param name="run">The case.</param>
    /// <param name="maxSeconds">The time bound.</param>
    /// <param name="maxGrowthMb">The bound on the growth of resident memory.</param>
    /// <param name="allowed">The exception types the case may end with (derived types included); none means it must succeed.</param>
    /// <returns>The exception, or null.</returns>
    public async Task<Exception?> RunAsync(string name, Func<Task> run, double maxSeconds, long maxGrowthMb, params Type[] allowed)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long baseline = Rss();
        long peak = baseline;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                long now = Rss();
                if (now > Interlocked.Read(ref peak))
                {
                    Interlocked.Exchange(ref peak, now);
                }

                try
                {
                    await Task.Delay(2, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
        var sw = Stopwatch.StartNew();
        Exception? error = null;
        try
        {
            await run();
        }
        catch (Exception ex)
        {
            error = ex;
        }

        sw.Stop();
        long end = Rss();
        await stop.CancelAsync();
        await sampler;
        long growthMb = (Math.Max(peak, end) - baseline) / (1024 * 1024);
        string outcome = error is null ? "result" : error.GetType().Name;
        _rows.Add((name, outcome, sw.Elapsed.TotalSeconds, growthMb));
        _output.WriteLine($"{name,-58} {outcome,-30} {sw.Elapsed.TotalSeconds,7:0.000} s {growthMb,6} MB");

        if (error is not null && !allowed.Any(t => t.IsInstanceOfType(error)))
        {
            Assert.Fail($"{name}: untyped or unexpected exception {error.GetType().FullName}: {error}");
        }

        Assert.True(sw.Elapsed.TotalSeconds <= maxSeconds, $"{name}: took {sw.Elapsed.TotalSeconds:0.00} s, bound {maxSeconds} s");
        Assert.True(growthMb <= maxGrowthMb, $"{name}: resident memory grew {growthMb} MB, bound {maxGrowthMb} MB");
        return error;
    }

    /// <summary>Prints the summary line of a class of cases: count, typed errors, max time, max memory.</summary>
    /// <param name="cls">The class name.</param>
    public void Summary(string cls)
    {
        if (_rows.Count == 0)
        {
            return;
        }

        _output.WriteLine(
            $"SUMMARY {cls}: {_rows.Count} cases, {_rows.Count(r => r.Outcome != "result")} typed errors, " +
            $"max {_rows.Max(r => r.Seconds):0.000} s, max {_rows.Max(r => r.PeakMb)} MB");
    }

    private static long Rss() => ProcStatus.ReadBytes("/proc/self/status", "VmRSS") ?? 0;
}

/// <summary>The campaign's collection: its classes run one at a time and alone, so memory figures are their own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CampaignGroup
{
    public const string Name = "Fuzzing and fault campaign";
}
