using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Generation;

/// <summary>
/// Turns the logits of one sequence into the next token, for one request: applies the penalties, temperature,
/// top-k, top-p and min-p of its <see cref="GenerationOptions"/> in Hugging Face order, then picks the argmax
/// (greedy) or samples with the request's own <see cref="torch.Generator"/>.
/// </summary>
/// <remarks>
/// <para>
/// One sampler serves one sequence (one batch row). For a batch, create one sampler per row and pass each its row
/// (<c>logits[i]</c>); rows never share random state, so each row's tokens depend only on its seed, options and logits.
/// </para>
/// <para>
/// Order: repetition penalty (Hugging Face: over every distinct token in the prompt and the output so far, a positive
/// logit is divided by the penalty, a negative one multiplied), then the OpenAI frequency and presence penalties (over
/// generated tokens only: <c>logit -= count * frequency + (count &gt; 0 ? presence : 0)</c>), then temperature, top-k,
/// top-p and min-p. Top-k keeps exactly k tokens (ties at the k-th value are broken by index, where Hugging Face keeps
/// them all). Greedy decoding (temperature 0 or top-k 1) applies the penalties and takes the argmax.
/// </para>
/// <para>
/// Randomness comes only from a generator owned by this sampler, seeded with <see cref="GenerationOptions.Seed"/> or, when
/// that is not set, with a seed drawn from <see cref="Random.Shared"/> and reported by <see cref="Seed"/>. Process-wide
/// torch random state is never read or changed. The generator is created on the device of the first logits.
/// </para>
/// <para>Log-probabilities come from the raw logits (see <see cref="TokenLogProb"/>).</para>
/// <para>An instance is not thread-safe: one decode loop uses it. Every step runs in its own dispose scope; <see cref="Sample(Tensor)"/>
/// returns managed values only and leaves the caller's tensor unchanged.</para>
/// </remarks>
public sealed class LogitsSampler : IDisposable
{
    private readonly GenerationOptions _options;
    private readonly HashSet<int> _seen = [];
    private readonly List<long> _seenIds = [];
    private readonly Dictionary<int, int> _generatedCounts = [];
    private readonly List<int> _generated = [];
    private readonly long[] _endOfSequence;
    private readonly HashSet<int> _endIds;
    private Generator? _generator;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="LogitsSampler"/> class.</summary>
    /// <param name="options">The request's options.</param>
    /// <param name="promptTokenIds">
    /// The prompt's token ids (image placeholders included), which the repetition penalty covers; the frequency and
    /// presence penalties ignore them.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A prompt token id is negative.</exception>
    public LogitsSampler(GenerationOptions options, ReadOnlySpan<int> promptTokenIds)
        : this(options, promptTokenIds, [])
    {
    }

    /// <summary>Initializes a new instance of the <see cref="LogitsSampler"/> class that knows the end-of-sequence tokens.</summary>
    /// <param name="options">The request's options.</param>
    /// <param name="promptTokenIds">The prompt's token ids (for the repetition penalty).</param>
    /// <param name="endOfSequenceTokenIds">
    /// Tokens that end generation; while fewer than <see cref="GenerationOptions.MinNewTokens"/> tokens exist they are never chosen.
    /// </param>
    public LogitsSampler(GenerationOptions options, ReadOnlySpan<int> promptTokenIds, IEnumerable<int> endOfSequenceTokenIds)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(endOfSequenceTokenIds);
        _options = options;
        _endIds = [.. endOfSequenceTokenIds];
        _endOfSequence = [.. _endIds.Select(static id => (long)id)];
        Seed = options.Seed ?? Random.Shared.NextInt64();
        foreach (int id in promptTokenIds)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(id, nameof(promptTokenIds));
            MarkSeen(id);
        }
    }

    /// <summary>Gets the seed of this sampler's random generator: <see cref="GenerationOptions.Seed"/> or the one drawn for it.</summary>
    public long Seed { get; }

    /// <summary>Gets the options this sampler applies.</summary>
    public GenerationOptions Options => _options;

    /// <summary>Gets the tokens this sampler has chosen or been told about (<see cref="Accept"/>), in order.</summary>
    public IReadOnlyList<int> GeneratedTokens => _generated;

    /// <summary>
    /// Chooses the next token from the logits of the last position and records it as generated (for the penalties).
    /// </summary>
    /// <param name="logits">The logits, shape <c>[vocab]</c> or <c>[1, vocab]</c>, any floating dtype and device; not modified.</param>
    /// <returns>The chosen token, with its log-probabilities when <see cref="GenerationOptions.LogProbs"/> is set.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="logits"/> does not have one row.</exception>
    /// <exception cref="ObjectDisposedException">The sampler is disposed.</exception>
    public SampledToken Sample(Tensor logits) => Sample(logits, null, int.MaxValue);

    /// <summary>
    /// Chooses the next token under a per-request constraint: penalties first, then the token is chosen as without a
    /// constraint and checked with <see cref="ITokenConstraint.IsAllowed"/>; only when it is rejected are the scores
    /// masked (<see cref="ITokenConstraint.MaskLogits"/>) and the token chosen again from what is left, with the same
    /// warpers and generator. End-of-sequence ids are allowed exactly when the constraint <see cref="ITokenConstraint.IsComplete"/>.
    /// A chosen token that does not end the sequence is passed to <see cref="ITokenConstraint.Accept"/>.
    /// </summary>
    /// <param name="logits">The logits, shape <c>[vocab]</c> or <c>[1, vocab]</c>; not modified.</param>
    /// <param name="constraint">The request's constraint, or null.</param>
    /// <param name="remainingTokens">Output budget left, this token included.</param>
    /// <returns>The chosen token.</returns>
    /// <exception cref="InvalidOperationException">The constraint allows no token at all.</exception>
    internal SampledToken Sample(Tensor logits, ITokenConstraint? constraint, int remainingTokens)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor raw = AsRow(logits);

        Tensor scores = ApplyPenaltiesCore(raw);
        if (_generated.Count < _options.MinNewTokens && _endOfSequence.Length > 0)
        {
            scores = scores.IndexFill(0, torch.tensor(_endOfSequence, device: scores.device), float.NegativeInfinity);
        }

        int token = Choose(scores, raw.device);
        if (constraint is not null && !Allows(constraint, token, remainingTokens))
        {
            token = Choose(MaskScores(scores, constraint, remainingTokens), raw.device);
        }

        if (constraint is not null && !_endIds.Contains(token))
        {
            constraint.Accept(token);
        }

        TokenLogProb? logProb = _options.LogProbs ? ComputeLogProb(raw, token, _options.TopLogProbs) : null;
        Accept(token);
        return new SampledToken(token, logProb);
    }

    /// <summary>
    /// Records a token as generated without sampling it (for example a forced token), so that the penalties cover it.
    /// </summary>
    /// <param name="tokenId">The token id.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tokenId"/> is negative.</exception>
    public void Accept(int tokenId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokenId);
        _generated.Add(tokenId);
        _generatedCounts[tokenId] = _generatedCounts.GetValueOrDefault(tokenId) + 1;
        MarkSeen(tokenId);
    }

    /// <summary>
    /// Computes the log-probability of <paramref name="tokenId"/> and the <paramref name="topCount"/> most likely tokens
    /// under the raw logits (<c>log_softmax</c>, no penalty or temperature).
    /// </summary>
    /// <param name="logits">The raw logits, shape <c>[vocab]</c> or <c>[1, vocab]</c>; not modified.</param>
    /// <param name="tokenId">The token whose log-probability is wanted.</param>
    /// <param name="topCount">How many alternatives to report, 0..<see cref="GenerationDefaults.MaxTopLogProbs"/>.</param>
    /// <returns>The token's log-probability with its alternatives, most likely first.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tokenId"/> or <paramref name="topCount"/> is out of range.</exception>
    public static TokenLogProb ComputeLogProb(Tensor logits, int tokenId, int topCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokenId);
        ArgumentOutOfRangeException.ThrowIfNegative(topCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(topCount, GenerationDefaults.MaxTopLogProbs);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor row = AsRow(logits);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(tokenId, row.shape[0]);
        Tensor logp = row.log_softmax(0);
        float chosen = logp[tokenId].item<float>();
        if (topCount == 0)
        {
            return new TokenLogProb(tokenId, chosen);
        }

        int k = (int)Math.Min(topCount, row.shape[0]);
        (Tensor values, Tensor indices) = logp.topk(k);
        float[] v = values.cpu().data<float>().ToArray();
        long[] ids = indices.cpu().data<long>().ToArray();
        var top = new TokenLogProb[k];
        for (int i = 0; i < k; i++)
        {
            top[i] = new TokenLogProb((int)ids[i], v[i]);
        }

        return new TokenLogProb(tokenId, chosen) { TopLogProbs = top };
    }

    /// <summary>Releases the random generator.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _generator?.Dispose();
        _generator = null;
    }

    /// <summary>
    /// For tests: the logits after the penalties (no temperature), as a new float32 tensor of shape <c>[vocab]</c>.
    /// </summary>
    internal float[] PenalizedLogits(Tensor logits)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return ApplyPenaltiesCore(AsRow(logits)).cpu().data<float>().ToArray();
    }

    /// <summary>
    /// For tests: the full distribution sampling draws from after every processing step (greedy gives a one-hot).
    /// </summary>
    internal float[] Distribution(Tensor logits)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor raw = AsRow(logits);
        Tensor scores = ApplyPenaltiesCore(raw);
        if (_options.IsGreedy)
        {
            return zeros_like(scores).IndexFill(0, scores.argmax().unsqueeze(0), 1.0).cpu().data<float>().ToArray();
        }

        (Tensor probs, Tensor? indices) = Warp(scores);
        Tensor full = indices is null ? probs : zeros_like(scores).scatter_(0, indices, probs);
        return full.cpu().data<float>().ToArray();
    }

    /// <summary>The argmax (greedy) or a draw from the warped distribution of <paramref name="scores"/>.</summary>
    private int Choose(Tensor scores, Device device)
    {
        if (_options.IsGreedy)
        {
            return (int)scores.argmax().item<long>();
        }

        (Tensor probs, Tensor? indices) = Warp(scores);
        _generator ??= new Generator(unchecked((ulong)Seed), device);
        Tensor pick = probs.multinomial(1, false, _generator);
        return (int)(indices is null ? pick : indices.index_select(0, pick)).item<long>();
    }

    private bool Allows(ITokenConstraint constraint, int token, int remainingTokens) =>
        _endIds.Contains(token) ? constraint.IsComplete : constraint.IsAllowed(token, remainingTokens);

    /// <summary>The scores with every id the constraint rejects at negative infinity; end ids kept only when complete.</summary>
    private Tensor MaskScores(Tensor scores, ITokenConstraint constraint, int remainingTokens)
    {
        float[] values = scores.cpu().data<float>().ToArray();
        var ends = new List<(int Id, float Value)>(_endIds.Count);
        foreach (int id in _endIds)
        {
            if (id < values.Length)
            {
                ends.Add((id, values[id]));
            }
        }

        constraint.MaskLogits(values, remainingTokens);
        bool complete = constraint.IsComplete;
        foreach ((int id, float value) in ends)
        {
            values[id] = complete ? value : float.NegativeInfinity;
        }

        if (!values.Any(static v => v > float.NegativeInfinity))
        {
            throw new InvalidOperationException("The output constraint allows no next token.");
        }

        return torch.tensor(values, device: scores.device);
    }

    private static Tensor AsRow(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        Tensor row = logits.dim() switch
        {
            1 => logits,
            2 when logits.shape[0] == 1 => logits[0],
            _ => throw new ArgumentException($"Expected logits of shape [vocab] or [1, vocab], got [{string.Join(", ", logits.shape)}].", nameof(logits)),
        };
        return row.dtype == ScalarType.Float32 ? row : row.to_type(ScalarType.Float32);
    }

    private void MarkSeen(int id)
    {
        if (_seen.Add(id))
        {
            _seenIds.Add(id);
        }
    }

    /// <summary>Applies the penalties; returns <paramref name="raw"/> itself when none is active, else a new tensor.</summary>
    private Tensor ApplyPenaltiesCore(Tensor raw)
    {
        Tensor scores = raw;
        float repetition = _options.RepetitionPenalty;
        if (repetition != 1f && _seenIds.Count > 0)
        {
            using Tensor ids = tensor(_seenIds.ToArray(), dtype: ScalarType.Int64, device: raw.device);
            Tensor picked = scores.gather(0, ids);
            Tensor penalized = where(picked.Lt(0), picked.Mul(repetition), picked.Div(repetition));
            scores = scores.scatter(0, ids, penalized);
        }

        float frequency = _options.FrequencyPenalty;
        float presence = _options.PresencePenalty;
        if ((frequency != 0f || presence != 0f) && _generatedCounts.Count > 0)
        {
            var ids = new long[_generatedCounts.Count];
            var amounts = new float[_generatedCounts.Count];
            int i = 0;
            foreach ((int id, int count) in _generatedCounts)
            {
                ids[i] = id;
                amounts[i] = -((count * frequency) + presence);
                i++;
            }

            using Tensor idTensor = tensor(ids, dtype: ScalarType.Int64, device: raw.device);
            using Tensor amountTensor = tensor(amounts, dtype: ScalarType.Float32, device: raw.device);
            scores = ReferenceEquals(scores, raw) ? scores.clone() : scores;
            scores.scatter_add_(0, idTensor, amountTensor);
        }

        return scores;
    }

    /// <summary>
    /// Applies temperature, top-k, top-p and min-p; returns the probabilities of the candidates and, when they are a
    /// sorted subset, their vocabulary indices (null when the candidates are the whole vocabulary in order).
    /// </summary>
    private (Tensor Probs, Tensor? Indices) Warp(Tensor scores)
    {
        if (_options.Temperature != 1f)
        {
            scores = scores.Div(_options.Temperature);
        }

        long vocab = scores.shape[0];
        Tensor values = scores;
        Tensor? indices = null;
        if (_options.TopK > 0 && _options.TopK < vocab)
        {
            (values, indices) = scores.topk(_options.TopK);
        }
        else if (_options.TopP < 1f)
        {
            (values, indices) = scores.sort(0, descending: true);
        }

        if (_options.TopP < 1f)
        {
            // values are sorted descending: keep a token while the mass of the tokens before it is below top-p
            // (Hugging Face removes tokens whose ascending cumulative mass is <= 1 - top_p; the top token always stays).
            Tensor probs = values.softmax(0);
            Tensor before = probs.cumsum(0) - probs;
            values = values.MaskedFill(before.Ge(_options.TopP), float.NegativeInfinity);
        }

        if (_options.MinP > 0f)
        {
            // p_i < min_p * p_max  <=>  logit_i < logit_max + ln(min_p).
            Tensor threshold = values.max().Add(MathF.Log(_options.MinP));
            values = values.MaskedFill(values < threshold, float.NegativeInfinity);
        }

        return (values.softmax(0), indices);
    }
}
