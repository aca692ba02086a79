using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.SemanticKernel;

namespace Idefics3.SemanticKernel;

/// <summary>
/// Execution settings for Idefics3 / SmolVLM chat completion in Semantic Kernel. Property names serialise in
/// snake_case like Semantic Kernel's other connectors; the values reach the model through the same mapping as
/// <see cref="Microsoft.Extensions.AI.ChatOptions"/> (standard keys) and its additional properties (the rest).
/// Unset (null) settings are left out of the JSON, so they never reach the model as explicit values.
/// </summary>
public sealed class Idefics3PromptExecutionSettings : PromptExecutionSettings
{
    private double? _temperature;
    private double? _topP;
    private int? _topK;
    private int? _maxTokens;
    private long? _seed;
    private IList<string>? _stopSequences;
    private double? _frequencyPenalty;
    private double? _presencePenalty;
    private double? _repetitionPenalty;
    private double? _minP;
    private bool? _doImageSplitting;
    private int? _longestEdge;
    private bool? _logprobs;
    private int? _topLogprobs;
    private string? _chatSystemPrompt;
    private object? _responseFormat;

    /// <summary>Gets or sets the sampling temperature; 0 selects greedy decoding.</summary>
    [JsonPropertyName("temperature")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Temperature { get => _temperature; set => Set(ref _temperature, value); }

    /// <summary>Gets or sets nucleus sampling's probability mass (0, 1].</summary>
    [JsonPropertyName("top_p")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TopP { get => _topP; set => Set(ref _topP, value); }

    /// <summary>Gets or sets how many of the most likely tokens sampling considers.</summary>
    [JsonPropertyName("top_k")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? TopK { get => _topK; set => Set(ref _topK, value); }

    /// <summary>Gets or sets the largest number of tokens to generate.</summary>
    [JsonPropertyName("max_tokens")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? MaxTokens { get => _maxTokens; set => Set(ref _maxTokens, value); }

    /// <summary>Gets or sets the seed of this request's random generator (same seed, same output).</summary>
    [JsonPropertyName("seed")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Seed { get => _seed; set => Set(ref _seed, value); }

    /// <summary>Gets or sets strings that end generation; they are not part of the output.</summary>
    [JsonPropertyName("stop_sequences")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IList<string>? StopSequences { get => _stopSequences; set => Set(ref _stopSequences, value); }

    /// <summary>Gets or sets the OpenAI-style frequency penalty over generated tokens.</summary>
    [JsonPropertyName("frequency_penalty")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? FrequencyPenalty { get => _frequencyPenalty; set => Set(ref _frequencyPenalty, value); }

    /// <summary>Gets or sets the OpenAI-style presence penalty over generated tokens.</summary>
    [JsonPropertyName("presence_penalty")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? PresencePenalty { get => _presencePenalty; set => Set(ref _presencePenalty, value); }

    /// <summary>Gets or sets the Hugging Face repetition penalty (1 = off) over prompt and output tokens.</summary>
    [JsonPropertyName("repetition_penalty")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? RepetitionPenalty { get => _repetitionPenalty; set => Set(ref _repetitionPenalty, value); }

    /// <summary>Gets or sets min-p sampling's threshold relative to the most likely token.</summary>
    [JsonPropertyName("min_p")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? MinP { get => _minP; set => Set(ref _minP, value); }

    /// <summary>Gets or sets a value indicating whether large images are split into tiles (more detail, more tokens).</summary>
    [JsonPropertyName("do_image_splitting")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? DoImageSplitting { get => _doImageSplitting; set => Set(ref _doImageSplitting, value); }

    /// <summary>Gets or sets the longest image edge after the first resize (a multiple of the tile size).</summary>
    [JsonPropertyName("longest_edge")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? LongestEdge { get => _longestEdge; set => Set(ref _longestEdge, value); }

    /// <summary>Gets or sets a value indicating whether log-probabilities of the generated tokens are returned.</summary>
    [JsonPropertyName("logprobs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Logprobs { get => _logprobs; set => Set(ref _logprobs, value); }

    /// <summary>Gets or sets how many alternatives per generated token are returned with their log-probabilities.</summary>
    [JsonPropertyName("top_logprobs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? TopLogprobs { get => _topLogprobs; set => Set(ref _topLogprobs, value); }

    /// <summary>Gets or sets a system prompt placed before the chat history.</summary>
    [JsonPropertyName("chat_system_prompt")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ChatSystemPrompt { get => _chatSystemPrompt; set => Set(ref _chatSystemPrompt, value); }

    /// <summary>
    /// Gets or sets the response format, as Semantic Kernel's connectors accept it: <c>"json_object"</c> (any JSON
    /// object), <c>"text"</c>, a JSON schema (a <see cref="JsonElement"/> or its text, also OpenAI's
    /// <c>{"type":"json_schema","json_schema":{"schema":...}}</c>), a <see cref="Type"/> (its schema is generated) or a
    /// Microsoft.Extensions.AI <c>ChatResponseFormat</c>. Decoding is then constrained to valid JSON of that format.
    /// Not serialised (a Type has no JSON form); a <c>response_format</c> entry in <see cref="PromptExecutionSettings.ExtensionData"/> works too.
    /// </summary>
    [JsonIgnore]
    public object? ResponseFormat { get => _responseFormat; set => Set(ref _responseFormat, value); }

    /// <summary>Converts any execution settings to <see cref="Idefics3PromptExecutionSettings"/> (JSON round trip).</summary>
    /// <param name="settings">The settings, possibly of another connector's type; null gives defaults.</param>
    /// <returns>The settings as this type.</returns>
    public static Idefics3PromptExecutionSettings FromExecutionSettings(PromptExecutionSettings? settings)
    {
        switch (settings)
        {
            case null:
                return new Idefics3PromptExecutionSettings();
            case Idefics3PromptExecutionSettings own:
                return own;
            default:
                string json = JsonSerializer.Serialize(settings, settings.GetType());
                Idefics3PromptExecutionSettings converted =
                    JsonSerializer.Deserialize<Idefics3PromptExecutionSettings>(json) ?? new Idefics3PromptExecutionSettings();
                converted.ServiceId = settings.ServiceId;
                converted.ModelId = settings.ModelId;

                // Kept by reference, as Semantic Kernel's own conversion does, so offered functions are never lost
                // (the client then refuses them clearly instead of ignoring them).
                converted.FunctionChoiceBehavior = settings.FunctionChoiceBehavior;
                return converted;
        }
    }

    /// <inheritdoc />
    public override PromptExecutionSettings Clone() =>
        new Idefics3PromptExecutionSettings
        {
            ModelId = ModelId,
            ServiceId = ServiceId,
            ExtensionData = ExtensionData is null ? null : new Dictionary<string, object>(ExtensionData),
            FunctionChoiceBehavior = FunctionChoiceBehavior,
            Temperature = Temperature,
            TopP = TopP,
            TopK = TopK,
            MaxTokens = MaxTokens,
            Seed = Seed,
            StopSequences = StopSequences is null ? null : new List<string>(StopSequences),
            FrequencyPenalty = FrequencyPenalty,
            PresencePenalty = PresencePenalty,
            RepetitionPenalty = RepetitionPenalty,
            MinP = MinP,
            DoImageSplitting = DoImageSplitting,
            LongestEdge = LongestEdge,
            Logprobs = Logprobs,
            TopLogprobs = TopLogprobs,
            ChatSystemPrompt = ChatSystemPrompt,
            ResponseFormat = ResponseFormat,
        };

    private void Set<T>(ref T field, T value)
    {
        ThrowIfFrozen();
        field = value;
    }
}
