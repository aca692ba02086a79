namespace Idefics3.Diagnostics;

/// <summary>
/// The decode-step measurements of <c>idefics3 bench</c> on a loaded engine's network, printed as they run: they time
/// the network's internal decode paths directly (libtorch step, C# step), which no public API exposes.
/// </summary>
public static class DecodeBenchmarks
{
    /// <summary>
    /// Prefills <paramref name="context"/> random tokens once, then decodes greedily in interleaved rounds (libtorch
    /// step, C# step on 1 thread and on all cores) with a read-bandwidth probe beside every round; prints rates, page
    /// faults per token and where one step's time goes.
    /// </summary>
    /// <param name="engine">The loaded engine.</param>
    /// <param name="context">The context length decoded at.</param>
    /// <param name="tokens">Tokens decoded per round (the rate is over tokens 2..N).</param>
    /// <param name="rounds">Rounds.</param>
    /// <param name="includeLibtorch">Whether the libtorch step is measured too (slow on large shapes).</param>
    /// <param name="log">Where the results are printed.</param>
    public static void RunDecodeStep(Idefics3Engine engine, int context, int tokens, int rounds, bool includeLibtorch, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        new DecodeStepBench(log).Run(engine.Network, context, tokens, rounds, includeLibtorch);
    }

    /// <summary>Measures the page faults of prefill (KV cache per request and reused) and of the vision tower, with the cost per fault; prints as it runs.</summary>
    /// <param name="engine">The loaded engine.</param>
    /// <param name="context">The prefill length.</param>
    /// <param name="repeats">Repetitions.</param>
    /// <param name="log">Where the results are printed.</param>
    public static void RunPageFaults(Idefics3Engine engine, int context, int repeats, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        new PageFaultBench(log).Run(engine.Network, context, repeats);
    }
}
