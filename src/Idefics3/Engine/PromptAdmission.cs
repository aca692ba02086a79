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
    private readonly EngineMetrics _metrics;

    /// <summary>Initializes a new instance of the <see cref="PromptAdmission"/> class.</summary>
    /// <param name="maxConcurrentDecodes">How many prompts may be decoded and tiled at the same time.</param>
    /// <param name="metrics">Counts prepared prompts and those being prepared (<c>idefics3.prompts.*</c>).</param>
    public PromptAdmission(int maxConcurrentDecodes, EngineMetrics metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrentDecodes, 1);
        _gate = new SemaphoreSlim(maxConcurrentDecodes, maxConcurrentDecodes);
        _metrics = metrics;
    }

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
                    _metrics.Preparing(+1);
                    try
                    {
                        return decode();
                    }
                    finally
                    {
                        _metrics.Preparing(-1);
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
}
