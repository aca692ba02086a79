using System.Diagnostics;
using Idefics3.Engine;
using Idefics3.Modeling;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Generation;

/// <summary>
/// One request from prepared prompt to last update: image features, prefix reuse, chunked prefill, then the decode
/// loop (sample, assemble output, decode step). It owns the request's KV cache, sampler and output assembler; the
/// network and the caches are reached only through <see cref="DecodeServices"/>. Runs on one dedicated thread.
/// </summary>
internal sealed partial class GenerationSession
{
    private readonly DecodeServices _services;
    private readonly PreparedPrompt _prompt;
    private readonly GenerationOptions _options;
    private readonly int _maxNewTokens;
    private readonly RequestTimes _times;

    public GenerationSession(DecodeServices services, PreparedPrompt prompt, GenerationOptions options, int maxNewTokens, double queueMilliseconds)
    {
        _services = services;
        _prompt = prompt;
        _options = options;
        _maxNewTokens = maxNewTokens;
        _times = new RequestTimes { QueueMilliseconds = queueMilliseconds };
    }

    /// <summary>Gets the number of tensors the finished request left alive on its thread (cached entries, or a leak).</summary>
    public long TensorBalance { get; private set; }

    /// <summary>Runs the request to the end, emitting text deltas and a final update.</summary>
    public void Run(Action<GenerationUpdate> emit, CancellationToken cancellationToken)
    {
        // TorchSharp counts live tensors per thread; this thread runs only this request.
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        try
        {
            RunCore(emit, cancellationToken);
        }
        finally
        {
            TensorBalance = DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;
        }
    }

    /// <summary>
    /// The token sequence whose keys and values the cache now holds and that a later prompt may share: the prompt plus
    /// every generated token fed back (all but the last). A generated <c>&lt;image&gt;</c> id is an ordinary embedding, not
    /// an image slot, so it cannot be keyed like the prompt's image tokens: then only the prompt part is kept.
    /// </summary>
    internal static int[] CacheableSequence(int[] promptIds, IReadOnlyList<int> output, int imageTokenId)
    {
        IEnumerable<int> fed = output.Take(Math.Max(0, output.Count - 1));
        return fed.Contains(imageTokenId) ? promptIds : [.. promptIds, .. fed];
    }

    private void RunCore(Action<GenerationUpdate> emit, CancellationToken cancellationToken)
    {
        using var inference = torch.inference_mode();
        var clock = Stopwatch.StartNew();
        var leases = new List<IDisposable>();
        KvCache cache = _services.Runner.CreateCache(_prompt.InputIds.Length + _maxNewTokens);
        try
        {
            Tensor? features = ImageFeatures(leases, cancellationToken);
            _times.VisionMilliseconds = clock.Elapsed.TotalMilliseconds;
            int cachedTokens = _services.PrefixCache.Restore(_prompt.InputIds, _prompt, cache);
            Tensor logits;
            try
            {
                logits = Prefill(cachedTokens, features, cache, cancellationToken);
            }
            finally
            {
                features?.Dispose();
            }

            _times.PrefillMilliseconds = clock.Elapsed.TotalMilliseconds - _times.VisionMilliseconds;
            _times.TimeToFirstTokenMilliseconds = clock.Elapsed.TotalMilliseconds;
            Decode(logits, cache, cachedTokens, emit, cancellationToken);
        }
        finally
        {
            cache.Dispose();
            foreach (IDisposable lease in leases)
            {
                lease.Dispose();
            }
        }
    }

    /// <summary>The features of every image, in prompt order: [frames, image_seq_len, H], or null without images.</summary>
    private Tensor? ImageFeatures(List<IDisposable> leases, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var perImage = new List<Tensor>(_prompt.Images.Count);
        foreach (PreparedImage image in _prompt.Images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            CacheLease<Tensor> lease = _services.VisionFeatures.Acquire(image, _prompt, cancellationToken);
            leases.Add(lease);
            perImage.Add(lease.Value);
        }

        return perImage.Count switch
        {
            0 => null,
            1 => perImage[0].alias().MoveToOuterDisposeScope(),
            _ => torch.cat(perImage, 0).MoveToOuterDisposeScope(),
        };
    }

    /// <summary>Runs the prompt from position <paramref name="start"/> in chunks; returns the last position's logits [vocab].</summary>
    private Tensor Prefill(int start, Tensor? features, KvCache cache, CancellationToken cancellationToken)
    {
        int[] ids = _prompt.InputIds;
        int imageTokenId = _services.ImageTokenId;
        int imageRowsBefore = ids.AsSpan(0, start).Count(imageTokenId);
        using Tensor? featureRows = features?.reshape(-1, features.shape[^1]);                  // [frames·S, H]
        int chunk = _services.PrefillChunkTokens;
        Tensor? last = null;
        try
        {
            for (int pos = start; pos < ids.Length; pos += chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int length = Math.Min(chunk, ids.Length - pos);
                int imageRows = ids.AsSpan(pos, length).Count(imageTokenId);
                if (imageRows > 0 && (featureRows is null || imageRowsBefore + imageRows > featureRows.shape[0]))
                {
                    throw new InvalidOperationException(
                        $"The prompt has more <image> tokens than its images give features ({featureRows?.shape[0] ?? 0}).");
                }

                using Tensor? rows = imageRows > 0 ? featureRows!.narrow(0, imageRowsBefore, imageRows) : null;
                imageRowsBefore += imageRows;
                last?.Dispose();
                last = _services.Runner.Prefill(ids.AsSpan(pos, length), rows, cache);
            }

            if (featureRows is not null && imageRowsBefore != featureRows.shape[0])
            {
                throw new InvalidOperationException(
                    $"The prompt has {imageRowsBefore} <image> tokens but its images give {featureRows.shape[0]} features.");
            }
        }
        catch
        {
            last?.Dispose();
            throw;
        }

        return last ?? throw new InvalidOperationException("Empty prompt.");
    }

    /// <summary>The decode loop: sample, assemble, stop or run one decode step; then keep the KV cache and report.</summary>
    private void Decode(Tensor firstLogits, KvCache cache, int cachedTokens, Action<GenerationUpdate> emit, CancellationToken cancellationToken)
    {
        int[] ids = _prompt.InputIds;
        ITokenConstraint? constraint = _prompt.Constraint;
        using var sampler = new LogitsSampler(_options, ids, [.. _services.EndOfSequenceIds, .. _options.StopTokenIds]);
        // A constrained output (structured output, tool calls) is never cut by stop strings.
        var output = new OutputAssembler(_services.Tokenizer, _prompt, constraint is null ? _options.StopSequences : [], _options.LogProbs);
        var decodeClock = Stopwatch.StartNew();
        FinishReason finish;
        Tensor? logits = firstLogits;
        try
        {
            while (true)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    finish = FinishReason.Cancelled;
                    break;
                }

                SampledToken sampled = sampler.Sample(logits, constraint, _maxNewTokens - output.Count);
                logits.Dispose();
                logits = null;
                bool isEnd = IsEnd(sampled.TokenId);
                if (output.Append(sampled, isEnd) is { } delta)
                {
                    emit(delta);
                }

                if (Finished(isEnd, output, constraint) is FinishReason reason)
                {
                    finish = reason;
                    break;
                }

                logits = _services.Runner.Decode(sampled.TokenId, cache);
            }
        }
        finally
        {
            logits?.Dispose();
        }

        _times.DecodeMilliseconds = decodeClock.Elapsed.TotalMilliseconds;

        // Keep this request's KV cache for a follow-up turn that starts with the same tokens.
        if (finish != FinishReason.Cancelled && cache.Length == ids.Length + Math.Max(0, output.Count - 1))
        {
            _services.PrefixCache.Store(CacheableSequence(ids, output.Tokens, _services.ImageTokenId), _prompt, cache);
        }

        GenerationUpdate last = output.Complete(finish, cachedTokens, _times, sampler.Seed, constraint?.IsComplete);
        LogGenerated(_services.Logger, ids.Length, cachedTokens, output.Count, _times.TimeToFirstTokenMilliseconds, last.Timings!.DecodeTokensPerSecond, last.FinishReason!.Value);
        emit(last);
    }

    /// <summary>Why the output ends after the token just appended, or null to run another decode step.</summary>
    private FinishReason? Finished(bool isEnd, OutputAssembler output, ITokenConstraint? constraint)
    {
        if (isEnd)
        {
            return FinishReason.Stop;
        }

        if (output.StopSequence is not null)
        {
            return FinishReason.StopSequence;
        }

        if (constraint is { MustEnd: true })
        {
            return FinishReason.Stop; // nothing but the end can follow: no further forward pass
        }

        return output.Count >= _maxNewTokens ? FinishReason.Length : null;
    }

    private bool IsEnd(int token) => _services.EndOfSequenceIds.Contains(token) || _options.StopTokenIds.Contains(token);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Generated: {InputTokens} prompt tokens ({CachedTokens} reused from cache), {OutputTokens} output tokens, first token after {TtftMilliseconds:F0} ms, decode {DecodeTokensPerSecond:F1} tokens/s, finish {FinishReason}")]
    private static partial void LogGenerated(ILogger logger, int inputTokens, int cachedTokens, int outputTokens, double ttftMilliseconds, double decodeTokensPerSecond, FinishReason finishReason);
}
