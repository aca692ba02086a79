namespace Idefics3.Generation;

/// <summary>
/// Wall-clock timings of one generation request, in milliseconds, with the token counts the rates derive from.
/// Rates are 0 when their duration or token count is 0.
/// </summary>
public sealed record GenerationTimings
{
    /// <summary>Gets the time spent in the vision encoder and connector (0 when all image features came from a cache).</summary>
    public double VisionEncoderMilliseconds { get; init; }

    /// <summary>Gets the time spent in the prompt forward pass (prefill), vision encoder excluded.</summary>
    public double PrefillMilliseconds { get; init; }

    /// <summary>Gets the time from the start of the request (after queueing) to the first generated token.</summary>
    public double TimeToFirstTokenMilliseconds { get; init; }

    /// <summary>Gets the time spent generating tokens after the first one.</summary>
    public double DecodeMilliseconds { get; init; }

    /// <summary>Gets the time the request waited in the scheduler's queue.</summary>
    public double QueueMilliseconds { get; init; }

    /// <summary>Gets the number of prompt tokens computed in prefill (cached tokens excluded).</summary>
    public int PrefillTokens { get; init; }

    /// <summary>Gets the number of tokens generated during <see cref="DecodeMilliseconds"/> (the first token excluded).</summary>
    public int DecodeTokens { get; init; }

    /// <summary>Gets <see cref="PrefillTokens"/> per second of <see cref="PrefillMilliseconds"/>.</summary>
    public double PrefillTokensPerSecond => Rate(PrefillTokens, PrefillMilliseconds);

    /// <summary>Gets <see cref="DecodeTokens"/> per second of <see cref="DecodeMilliseconds"/>.</summary>
    public double DecodeTokensPerSecond => Rate(DecodeTokens, DecodeMilliseconds);

    private static double Rate(int tokens, double milliseconds) =>
        tokens > 0 && milliseconds > 0 ? tokens * 1000.0 / milliseconds : 0;
}
