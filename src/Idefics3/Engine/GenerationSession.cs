using System.Diagnostics;
using Idefics3.Generation;
using Idefics3.Modeling;
using Idefics3.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Engine;

/// <summary>
/// Everything one request owns while it runs: its prompt, KV cache, sampler, detokenizer and stop matcher. The model
/// and the caches it reads are shared; nothing here is visible to other requests.
/// </summary>
internal sealed class GenerationSession
{
    private readonly Idefics3Engine _engine;
    private readonly IModelRunner _runner;
    private readonly PreparedPrompt _prompt;
    private readonly GenerationOptions _options;
    private readonly int _maxNewTokens;
    private readonly double _queueMilliseconds;

    public GenerationSession(Idefics3Engine engine, IModelRunner runner, PreparedPrompt prompt, GenerationOptions options, int maxNewTokens, double queueMilliseconds)
    {
        _engine = engine;
        _runner = runner;
        _prompt = prompt;
        _options = options;
        _maxNewTokens = maxNewTokens;
        _queueMilliseconds = queueMilliseconds;
    }

    /// <summary>Runs the request to the end, emitting text deltas and a final update. Runs on a dedicated thread.</summary>
    public void Run(Action<GenerationUpdate> emit, CancellationToken cancellationToken)
    {
        // TorchSharp counts live tensors per thread; this thread runs only this request, so the difference is what the
        // request left alive (cached features and KV snapshots, or a leak).
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        try
        {
            RunCore(emit, cancellationToken);
        }
        finally
        {
            _engine.RecordTensorBalance(DisposeScopeManager.Statistics.ThreadTotalLiveCount - before);
        }
    }

    private void RunCore(Action<GenerationUpdate> emit, CancellationToken cancellationToken)
    {
        Idefics3ForConditionalGeneration model = _engine.Network;
        int[] ids = _prompt.InputIds;
        var total = Stopwatch.StartNew();
        double visionMs;
        int cachedTokens = 0;
        var leases = new List<IDisposable>();
        KvCache? cache = null;
        try
        {
            using var inference = torch.inference_mode();

            // 1. Vision features, one image at a time, from the cache when the same image was seen with the same settings.
            var sw = Stopwatch.StartNew();
            Tensor? features = null;
            using (var scope = NewDisposeScope())
            {
                var perImage = new List<Tensor>(_prompt.Images.Count);
                foreach (PreparedImage image in _prompt.Images)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    CacheLease<Tensor> lease = _engine.GetImageFeatures(image, _prompt, cancellationToken);
                    leases.Add(lease);
                    perImage.Add(lease.Value);
                }

                if (perImage.Count > 0)
                {
                    features = (perImage.Count == 1 ? perImage[0].alias() : torch.cat(perImage, 0)).MoveToOuterDisposeScope();
                }
            }

            visionMs = sw.Elapsed.TotalMilliseconds;

            // 2. Reuse the KV cache of an earlier request whose tokens (images by content) start this prompt.
            int capacity = ids.Length + _maxNewTokens;
            cache = _runner.CreateCache(capacity);
            TokenPrefix promptKey = _engine.PrefixKey(ids, _prompt);
            using (PrefixCacheMatch<KvCache>? match = _engine.FindPrefix(promptKey))
            {
                if (match is not null)
                {
                    // At least the last prompt token must run to produce the first logits.
                    cachedTokens = Math.Min(match.MatchedLength, ids.Length - 1);
                    if (cachedTokens > 0)
                    {
                        cache.CopyPrefixFrom(match.Value, cachedTokens);
                    }
                }
            }

            // 3. Prefill the rest of the prompt in chunks, merging image features into the <image> slots.
            sw.Restart();
            Tensor logits;
            try
            {
                logits = Prefill(model.Config.ImageTokenId, ids, cachedTokens, features, cache, cancellationToken);
            }
            finally
            {
                features?.Dispose();
            }

            double prefillMs = sw.Elapsed.TotalMilliseconds;
            double ttftMs = total.Elapsed.TotalMilliseconds;

            // 4. Decode.
            Decode(model.Config.ImageTokenId, ids, cachedTokens, logits, cache, visionMs, prefillMs, ttftMs, emit, cancellationToken);
        }
        finally
        {
            cache?.Dispose();
            foreach (IDisposable lease in leases)
            {
                lease.Dispose();
            }
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

    private Tensor Prefill(int imageTokenId, int[] ids, int start, Tensor? features, KvCache cache, CancellationToken cancellationToken)
    {
        int imageRowsBefore = 0;
        for (int i = 0; i < start; i++)
        {
            if (ids[i] == imageTokenId)
            {
                imageRowsBefore++;
            }
        }

        using Tensor? featureRows = features?.reshape(-1, features.shape[^1]);
        int chunk = _engine.Options.PrefillChunkTokens;
        Tensor? last = null;
        try
        {
            for (int pos = start; pos < ids.Length; pos += chunk)
            {
                _engine.PrefillChunkObserver?.Invoke(pos);
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
                last = _runner.Prefill(ids.AsSpan(pos, length), rows, cache);
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

    private void Decode(
        int imageTokenId,
        int[] ids,
        int cachedTokens,
        Tensor firstLogits,
        KvCache cache,
        double visionMs,
        double prefillMs,
        double ttftMs,
        Action<GenerationUpdate> emit,
        CancellationToken cancellationToken)
    {
        HuggingFaceTokenizer tokenizer = _engine.Tokenizer;
        using var sampler = new LogitsSampler(_options, ids, [.. _engine.EndOfSequenceTokenIds, .. _options.StopTokenIds]);
        StreamingDecoder detokenizer = tokenizer.CreateStreamingDecoder(skipSpecialTokens: true);
        // A constrained output (structured output, tool calls) is never cut by stop strings.
        ITokenConstraint? constraint = _prompt.Constraint;
        var stops = new StopSequenceMatcher(constraint is null ? _options.StopSequences : []);
        var output = new List<int>();
        var logProbs = _options.LogProbs ? new List<TokenLogProb>() : null;
        FinishReason finish = FinishReason.Length;
        string? stopSequence = null;
        Tensor logits = firstLogits;
        var decodeWatch = Stopwatch.StartNew();
        var pendingIds = new List<int>();
        var pendingLogProbs = new List<TokenLogProb>();
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
                logits = null!;
                int token = sampled.TokenId;
                output.Add(token);
                pendingIds.Add(token);
                if (sampled.LogProb is { } lp)
                {
                    TokenLogProb named = _engine.NameLogProb(lp);
                    logProbs!.Add(named);
                    pendingLogProbs.Add(named);
                }

                if (_engine.IsEndOfSequence(token) || _options.StopTokenIds.Contains(token))
                {
                    finish = FinishReason.Stop;
                    break;
                }

                StopSequenceMatch match = stops.Append(detokenizer.Append(token));
                if (match.Text.Length > 0 || match.IsStop)
                {
                    emit(new GenerationUpdate { Text = match.Text, TokenIds = [.. pendingIds], LogProbs = logProbs is null ? null : [.. pendingLogProbs] });
                    pendingIds.Clear();
                    pendingLogProbs.Clear();
                }

                if (match.IsStop)
                {
                    finish = FinishReason.StopSequence;
                    stopSequence = match.StopSequence;
                    break;
                }

                if (constraint is { MustEnd: true })
                {
                    // Nothing but the end can follow: stop without another forward pass.
                    finish = FinishReason.Stop;
                    break;
                }

                if (output.Count >= _maxNewTokens)
                {
                    finish = FinishReason.Length;
                    break;
                }

                logits = _runner.Decode(token, cache);
            }
        }
        finally
        {
            logits?.Dispose();
        }

        double decodeMs = decodeWatch.Elapsed.TotalMilliseconds;

        // Keep this request's KV cache for a follow-up turn that starts with the same tokens.
        int fed = ids.Length + Math.Max(0, output.Count - 1);
        if (finish != FinishReason.Cancelled && cache.Length == fed)
        {
            _engine.StorePrefix(CacheableSequence(ids, output, imageTokenId), _prompt, cache);
        }

        string tail = string.Empty;
        if (finish != FinishReason.StopSequence)
        {
            StopSequenceMatch flushed = stops.Append(detokenizer.Flush());
            tail = flushed.IsStop ? flushed.Text : flushed.Text + stops.Flush();
            if (flushed.IsStop)
            {
                finish = FinishReason.StopSequence;
                stopSequence = flushed.StopSequence;
            }
        }

        var usage = new GenerationUsage
        {
            InputTokens = ids.Length,
            ImageTokens = _prompt.ImageTokens,
            OutputTokens = output.Count,
            CachedTokens = cachedTokens,
        };
        var timings = new GenerationTimings
        {
            VisionEncoderMilliseconds = visionMs,
            PrefillMilliseconds = prefillMs,
            TimeToFirstTokenMilliseconds = ttftMs,
            DecodeMilliseconds = decodeMs,
            QueueMilliseconds = _queueMilliseconds,
            PrefillTokens = ids.Length - cachedTokens,
            DecodeTokens = Math.Max(0, output.Count - 1),
        };
        _engine.LogCompleted(usage, timings, finish);
        emit(new GenerationUpdate
        {
            Text = tail,
            TokenIds = [.. pendingIds],
            LogProbs = logProbs is null ? null : [.. pendingLogProbs],
            FinishReason = finish,
            StopSequence = stopSequence,
            Usage = usage,
            Timings = timings,
            InputIds = ids,
            Seed = sampler.Seed,
            ConstraintSatisfied = constraint?.IsComplete,
        });
    }
}
