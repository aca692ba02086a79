using System.Collections.ObjectModel;

namespace Idefics3.Generation;

/// <summary>
/// Immutable settings of one generation request. Every property validates its value when it is set (also in
/// <see langword="with"/> expressions) and throws <see cref="ArgumentOutOfRangeException"/> (or
/// <see cref="ArgumentException"/> for malformed stop sequences) whose parameter name is the property name.
/// Defaults come from <see cref="GenerationDefaults"/>.
/// </summary>
/// <remarks>
/// Logits are processed in Hugging Face order: repetition penalty, then frequency and presence penalties, then
/// temperature, top-k, top-p and min-p; then the token is chosen greedily (temperature 0) or sampled.
/// </remarks>
public sealed record GenerationOptions
{
    private static readonly ReadOnlyCollection<string> s_noStrings = new(Array.Empty<string>());
    private static readonly ReadOnlyCollection<int> s_noInts = new(Array.Empty<int>());

    private readonly int? _maxNewTokens;
    private readonly float _temperature = GenerationDefaults.Temperature;
    private readonly float _topP = GenerationDefaults.TopP;
    private readonly int _topK = GenerationDefaults.TopK;
    private readonly float _minP = GenerationDefaults.MinP;
    private readonly float _repetitionPenalty = GenerationDefaults.RepetitionPenalty;
    private readonly float _frequencyPenalty = GenerationDefaults.FrequencyPenalty;
    private readonly float _presencePenalty = GenerationDefaults.PresencePenalty;
    private readonly int _topLogProbs;
    private readonly IReadOnlyList<string> _stopSequences = s_noStrings;
    private readonly IReadOnlyList<int> _stopTokenIds = s_noInts;
    private readonly int _minNewTokens;

    /// <summary>Gets options with every default.</summary>
    public static GenerationOptions Default { get; } = new();

    /// <summary>
    /// Gets the largest number of tokens to generate, at least 1; <see langword="null"/> means
    /// <see cref="GenerationDefaults.MaxNewTokens"/> (see <see cref="EffectiveMaxNewTokens"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int? MaxNewTokens
    {
        get => _maxNewTokens;
        init
        {
            if (value is < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), value, "MaxNewTokens must be at least 1 (or null for the default).");
            }

            _maxNewTokens = value;
        }
    }

    /// <summary>
    /// Gets the number of tokens generated before an end-of-sequence token may end generation (Hugging Face
    /// <c>min_new_tokens</c>: until then those tokens' logits are masked, so they are never chosen). Default 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MinNewTokens
    {
        get => _minNewTokens;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(MinNewTokens));
            _minNewTokens = value;
        }
    }

    /// <summary>Gets <see cref="MaxNewTokens"/>, or <see cref="GenerationDefaults.MaxNewTokens"/> when it is not set.</summary>
    public int EffectiveMaxNewTokens => _maxNewTokens ?? GenerationDefaults.MaxNewTokens;

    /// <summary>
    /// Gets the softmax temperature, finite and at least 0. 0 selects greedy decoding (argmax after penalties; top-k,
    /// top-p, min-p and <see cref="Seed"/> then have no effect); values above 0 divide the logits before sampling.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, NaN or infinite.</exception>
    public float Temperature
    {
        get => _temperature;
        init
        {
            if (!float.IsFinite(value) || value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(Temperature), value, "Temperature must be a finite number >= 0 (0 = greedy).");
            }

            _temperature = value;
        }
    }

    /// <summary>
    /// Gets the nucleus threshold in (0, 1]: sampling keeps the smallest set of most likely tokens whose probability
    /// sums to at least this value. 1 turns it off.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in (0, 1].</exception>
    public float TopP
    {
        get => _topP;
        init
        {
            if (!(value > 0 && value <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(TopP), value, "TopP must be in (0, 1] (1 = off).");
            }

            _topP = value;
        }
    }

    /// <summary>Gets the number of most likely tokens sampling keeps, at least 0. 0 turns it off.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int TopK
    {
        get => _topK;
        init
        {
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(TopK), value, "TopK must be >= 0 (0 = off).");
            }

            _topK = value;
        }
    }

    /// <summary>
    /// Gets the min-p threshold in [0, 1): sampling drops tokens whose probability is below <c>MinP</c> times the
    /// probability of the most likely token. 0 turns it off.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [0, 1).</exception>
    public float MinP
    {
        get => _minP;
        init
        {
            if (!(value >= 0 && value < 1))
            {
                throw new ArgumentOutOfRangeException(nameof(MinP), value, "MinP must be in [0, 1) (0 = off).");
            }

            _minP = value;
        }
    }

    /// <summary>
    /// Gets the Hugging Face repetition penalty, finite and above 0; 1 turns it off. For every token id present in the
    /// prompt or in the output so far, a positive logit is divided by the penalty and a negative one multiplied by it
    /// (once per distinct token, however often it occurs).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a finite number above 0.</exception>
    public float RepetitionPenalty
    {
        get => _repetitionPenalty;
        init
        {
            if (!float.IsFinite(value) || value <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(RepetitionPenalty), value, "RepetitionPenalty must be a finite number > 0 (1 = off).");
            }

            _repetitionPenalty = value;
        }
    }

    /// <summary>
    /// Gets the OpenAI frequency penalty in [-2, 2]; 0 turns it off. Over GENERATED tokens only (not the prompt): the
    /// logit of a token that occurred <c>count</c> times is reduced by <c>count * FrequencyPenalty</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [-2, 2].</exception>
    public float FrequencyPenalty
    {
        get => _frequencyPenalty;
        init => _frequencyPenalty = CheckOpenAIPenalty(value, nameof(FrequencyPenalty));
    }

    /// <summary>
    /// Gets the OpenAI presence penalty in [-2, 2]; 0 turns it off. Over GENERATED tokens only (not the prompt): the
    /// logit of every token that occurred at least once is reduced by <c>PresencePenalty</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [-2, 2].</exception>
    public float PresencePenalty
    {
        get => _presencePenalty;
        init => _presencePenalty = CheckOpenAIPenalty(value, nameof(PresencePenalty));
    }

    /// <summary>
    /// Gets the seed of the request's own random generator. The same seed with the same options and logits gives the
    /// same tokens, whatever else runs in the process; <see langword="null"/> draws a fresh seed, which the sampler
    /// reports (<see cref="LogitsSampler.Seed"/>).
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>
    /// Gets the strings that end generation when the decoded output contains one of them; the stop string itself is
    /// not part of the output. At most <see cref="GenerationDefaults.MaxStopSequences"/>, none null or empty.
    /// Matching is ordinal on the decoded text (see <see cref="StopSequenceMatcher"/>).
    /// </summary>
    /// <exception cref="ArgumentException">An entry is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">There are more than <see cref="GenerationDefaults.MaxStopSequences"/> entries.</exception>
    public IReadOnlyList<string> StopSequences
    {
        get => _stopSequences;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(StopSequences));
            string[] copy = [.. value];
            if (copy.Length > GenerationDefaults.MaxStopSequences)
            {
                throw new ArgumentOutOfRangeException(nameof(StopSequences), copy.Length, $"At most {GenerationDefaults.MaxStopSequences} stop sequences are allowed.");
            }

            if (copy.Any(string.IsNullOrEmpty))
            {
                throw new ArgumentException("Stop sequences must not be null or empty.", nameof(StopSequences));
            }

            _stopSequences = copy.Length == 0 ? s_noStrings : new ReadOnlyCollection<string>(copy);
        }
    }

    /// <summary>
    /// Gets extra token ids that end generation when generated (in addition to the model's end-of-sequence tokens);
    /// the stop token is not part of the output text. Each id must be at least 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative.</exception>
    public IReadOnlyList<int> StopTokenIds
    {
        get => _stopTokenIds;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(StopTokenIds));
            int[] copy = [.. value];
            if (copy.Any(id => id < 0))
            {
                throw new ArgumentOutOfRangeException(nameof(StopTokenIds), "Stop token ids must be >= 0.");
            }

            _stopTokenIds = copy.Length == 0 ? s_noInts : new ReadOnlyCollection<int>(copy);
        }
    }

    /// <summary>
    /// Gets the JSON format the output must follow (a schema, or any JSON object), or <see langword="null"/> for free
    /// text. Decoding is then constrained so that the output is always a JSON document of that format; when
    /// <see cref="MaxNewTokens"/> runs out first the result's finish reason is Length and its
    /// <c>ConstraintSatisfied</c> is false. Stop sequences do not apply to constrained output.
    /// </summary>
    public StructuredOutput.JsonResponseFormat? ResponseFormat { get; init; }

    /// <summary>
    /// Gets a value indicating whether the log-probability of each generated token is reported (OpenAI semantics:
    /// computed from the model's raw logits, before penalties and temperature; see <see cref="TokenLogProb"/>).
    /// </summary>
    public bool LogProbs { get; init; }

    /// <summary>
    /// Gets how many most likely alternatives, in 0..<see cref="GenerationDefaults.MaxTopLogProbs"/>, are reported
    /// with each generated token. It takes effect only when <see cref="LogProbs"/> is <see langword="true"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0..20.</exception>
    public int TopLogProbs
    {
        get => _topLogProbs;
        init
        {
            if (value is < 0 or > GenerationDefaults.MaxTopLogProbs)
            {
                throw new ArgumentOutOfRangeException(nameof(TopLogProbs), value, $"TopLogProbs must be in 0..{GenerationDefaults.MaxTopLogProbs}.");
            }

            _topLogProbs = value;
        }
    }

    /// <summary>Gets a value indicating whether decoding is greedy: temperature 0 or top-k 1.</summary>
    public bool IsGreedy => _temperature == 0 || _topK == 1;

    /// <summary>
    /// Gets the tools the model may call (set by the chat client from <c>ChatOptions.Tools</c>): the request is then
    /// constrained to the tool-call protocol (see <see cref="RequestConstraints"/>). Null for no tools.
    /// </summary>
    internal ToolCalling.ToolSet? Tools { get; init; }

    private static float CheckOpenAIPenalty(float value, string name)
    {
        if (!(value >= GenerationDefaults.MinOpenAIPenalty && value <= GenerationDefaults.MaxOpenAIPenalty))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [{GenerationDefaults.MinOpenAIPenalty}, {GenerationDefaults.MaxOpenAIPenalty}].");
        }

        return value;
    }
}
