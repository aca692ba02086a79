using Idefics3.Engine;
using Idefics3.Tokenization;

namespace Idefics3.Generation;

/// <summary>
/// Turns one request's generated tokens into what the caller receives: UTF-8-safe text deltas (detokenized with
/// special tokens skipped), stop-sequence matching with hold-back, named log-probabilities, and the final update with
/// usage and timings. It never touches the model.
/// </summary>
internal sealed class OutputAssembler
{
    private readonly HuggingFaceTokenizer _tokenizer;
    private readonly PreparedPrompt _prompt;
    private readonly StreamingDecoder _detokenizer;
    private readonly StopSequenceMatcher _stops;
    private readonly List<int> _output = [];
    private readonly List<int> _pendingIds = [];
    private readonly List<TokenLogProb>? _pendingLogProbs;

    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="prompt">The request's prompt (token counts for the usage).</param>
    /// <param name="stopSequences">The strings that end the output (none for a constrained output).</param>
    /// <param name="logProbs">Whether log-probabilities are reported.</param>
    public OutputAssembler(HuggingFaceTokenizer tokenizer, PreparedPrompt prompt, IEnumerable<string> stopSequences, bool logProbs)
    {
        _tokenizer = tokenizer;
        _prompt = prompt;
        _detokenizer = tokenizer.CreateStreamingDecoder(skipSpecialTokens: true);
        _stops = new StopSequenceMatcher(stopSequences);
        _pendingLogProbs = logProbs ? [] : null;
    }

    /// <summary>Gets the number of generated tokens so far.</summary>
    public int Count => _output.Count;

    /// <summary>Gets the generated tokens so far.</summary>
    public IReadOnlyList<int> Tokens => _output;

    /// <summary>Gets the stop sequence that ended the output, once one has.</summary>
    public string? StopSequence { get; private set; }

    /// <summary>
    /// Adds a generated token. An end token is kept in the ids but not detokenized. Returns the update to emit now
    /// (new text, or a completed stop sequence), or null while text is held back.
    /// </summary>
    public GenerationUpdate? Append(SampledToken sampled, bool isEnd)
    {
        _output.Add(sampled.TokenId);
        _pendingIds.Add(sampled.TokenId);
        if (sampled.LogProb is { } logProb)
        {
            _pendingLogProbs?.Add(logProb with { Text = _tokenizer.Decode([logProb.TokenId]) });
        }

        if (isEnd)
        {
            return null;
        }

        StopSequenceMatch match = _stops.Append(_detokenizer.Append(sampled.TokenId));
        if (match.IsStop)
        {
            StopSequence = match.StopSequence;
        }

        return match.Text.Length > 0 || match.IsStop ? TakePending(match.Text) : null;
    }

    /// <summary>Flushes held-back text and builds the last update.</summary>
    /// <param name="finish">Why decoding ended (a stop sequence found in the flushed text overrides it).</param>
    /// <param name="cachedTokens">Prompt positions restored from the prefix cache.</param>
    /// <param name="times">The request's phase times.</param>
    /// <param name="seed">The sampler's seed.</param>
    /// <param name="constraintSatisfied">Whether a constrained output is complete; null without a constraint.</param>
    public GenerationUpdate Complete(FinishReason finish, int cachedTokens, RequestTimes times, long seed, bool? constraintSatisfied)
    {
        string tail = string.Empty;
        if (finish != FinishReason.StopSequence)
        {
            StopSequenceMatch flushed = _stops.Append(_detokenizer.Flush());
            tail = flushed.IsStop ? flushed.Text : flushed.Text + _stops.Flush();
            if (flushed.IsStop)
            {
                finish = FinishReason.StopSequence;
                StopSequence = flushed.StopSequence;
            }
        }

        int[] ids = _prompt.InputIds;
        GenerationUpdate last = TakePending(tail);
        return last with
        {
            FinishReason = finish,
            StopSequence = StopSequence,
            Usage = new GenerationUsage
            {
                InputTokens = ids.Length,
                ImageTokens = _prompt.ImageTokens,
                OutputTokens = _output.Count,
                CachedTokens = cachedTokens,
            },
            Timings = new GenerationTimings
            {
                VisionEncoderMilliseconds = times.VisionMilliseconds,
                PrefillMilliseconds = times.PrefillMilliseconds,
                TimeToFirstTokenMilliseconds = times.TimeToFirstTokenMilliseconds,
                DecodeMilliseconds = times.DecodeMilliseconds,
                QueueMilliseconds = times.QueueMilliseconds,
                PrefillTokens = ids.Length - cachedTokens,
                DecodeTokens = Math.Max(0, _output.Count - 1),
            },
            InputIds = ids,
            Seed = seed,
            ConstraintSatisfied = constraintSatisfied,
        };
    }

    private GenerationUpdate TakePending(string text)
    {
        var update = new GenerationUpdate { Text = text, TokenIds = [.. _pendingIds], LogProbs = _pendingLogProbs is null ? null : [.. _pendingLogProbs] };
        _pendingIds.Clear();
        _pendingLogProbs?.Clear();
        return update;
    }
}
