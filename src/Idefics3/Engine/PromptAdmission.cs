using Idefics3.Generation;

namespace Idefics3.Engine;

/// <summary>
/// Admits a request before it costs anything: the context-window check runs on the token count taken from the image
/// headers (no pixel decoded), and the decoding and tiling that follow run under a bounded gate, so N concurrent requests
/// never decode more than <c>MaxConcurrentRequests</c> prompts' images at once.
/// </summary>
internal sealed class PromptAdmission : IDisposable
{
    private readonly SemaphoreSlim _gate;
    private int _decoding;
    private int _peak;
    private int _started;

    /// <summary>Initializes a new instance of the <see cref="PromptAdmission"/> class.</summary>
    /// <param name="maxConcurrentDecodes">How many prompts may be decoded and tiled at the same time.</param>
    public PromptAdmission(int maxConcurrentDecodes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrentDecodes, 1);
        _gate = new SemaphoreSlim(maxConcurrentDecodes, maxConcurrentDecodes);
    }

    /// <summary>Gets the most prompts that were ever being decoded at the same time (diagnostics and tests).</summary>
    public int PeakConcurrentDecodes => Volatile.Read(ref _peak);

    /// <summary>Gets how many prompts have started decoding (diagnostics and tests).</summary>
    public int DecodeCount => Volatile.Read(ref _started);

    /// <summary>Whether a prompt of <paramref name="promptTokens"/> leaves room for the requested output (overflow-safe).</summary>
    /// <param name="promptTokens">The prompt's tokens.</param>
    /// <param name="options">The generation options.</param>
    /// <param name="contextWindow">The model's context window.</param>
    /// <returns>True when it fits.</returns>
    public static bool Fits(int promptTokens, GenerationOptions options, int contextWindow) =>
        (long)promptTokens + (options.MaxNewTokens ?? 1) <= contextWindow; // long: MaxNewTokens may be int.MaxValue

    /// <summary>The output budget of a prompt, or <see cref="ContextWindowExceededException"/> when it does not fit.</summary>
    /// <param name="promptTokens">The prompt's tokens.</param>
    /// <param name="imageTokens">Of them, the image tokens (for the message).</param>
    /// <param name="options">The generation options.</param>
    /// <param name="contextWindow">The model's context window.</param>
    /// <returns>The number of tokens the request may generate.</returns>
    public static int BudgetOutput(int promptTokens, int imageTokens, GenerationOptions options, int contextWindow)
    {
        if (!Fits(promptTokens, options, contextWindow))
        {
            throw Exceeded(promptTokens, imageTokens, options, contextWindow);
        }

        return options.MaxNewTokens ?? Math.Min(options.EffectiveMaxNewTokens, contextWindow - promptTokens);
    }

    /// <summary>The error for a prompt that leaves no room for the requested output.</summary>
    /// <param name="promptTokens">The prompt's tokens.</param>
    /// <param name="imageTokens">Of them, the image tokens.</param>
    /// <param name="options">The generation options.</param>
    /// <param name="contextWindow">The model's context window.</param>
    /// <returns>The exception to throw.</returns>
    public static ContextWindowExceededException Exceeded(int promptTokens, int imageTokens, GenerationOptions options, int contextWindow) =>
        new(promptTokens, imageTokens, options.MaxNewTokens ?? 1, contextWindow);

    /// <summary>Runs <paramref name="decode"/> on a pool thread once a decode slot is free.</summary>
    /// <typeparam name="T">The result.</typeparam>
    /// <param name="decode">The CPU work: image decoding, tiling, batching.</param>
    /// <param name="cancellationToken">Cancels the wait for a slot (and the work, if it has not started).</param>
    /// <returns>The work's result.</returns>
    public async Task<T> DecodeAsync<T>(Func<T> decode, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(
                () =>
                {
                    Interlocked.Increment(ref _started);
                    int now = Interlocked.Increment(ref _decoding);
                    UpdatePeak(now);
                    try
                    {
                        return decode();
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _decoding);
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    private void UpdatePeak(int now)
    {
        int seen = Volatile.Read(ref _peak);
        while (now > seen)
        {
            int previous = Interlocked.CompareExchange(ref _peak, now, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
