namespace Idefics3.Generation;

/// <summary>
/// The single place for the default values and limits of text generation. <see cref="GenerationOptions"/>,
/// <see cref="RequestScheduler"/> and the engine read their defaults from here.
/// </summary>
public static class GenerationDefaults
{
    /// <summary>The number of new tokens generated when <see cref="GenerationOptions.MaxNewTokens"/> is <see langword="null"/>: 512.</summary>
    public const int MaxNewTokens = 512;

    /// <summary>The default temperature: 0, which selects greedy decoding (as Hugging Face does without <c>do_sample</c>).</summary>
    public const float Temperature = 0f;

    /// <summary>The default nucleus threshold: 1 (top-p filtering off).</summary>
    public const float TopP = 1f;

    /// <summary>The default top-k: 0 (top-k filtering off).</summary>
    public const int TopK = 0;

    /// <summary>The default min-p: 0 (min-p filtering off).</summary>
    public const float MinP = 0f;

    /// <summary>The default repetition penalty: 1 (off).</summary>
    public const float RepetitionPenalty = 1f;

    /// <summary>The default frequency penalty: 0 (off).</summary>
    public const float FrequencyPenalty = 0f;

    /// <summary>The default presence penalty: 0 (off).</summary>
    public const float PresencePenalty = 0f;

    /// <summary>The smallest allowed frequency or presence penalty: -2 (the OpenAI range).</summary>
    public const float MinOpenAIPenalty = -2f;

    /// <summary>The largest allowed frequency or presence penalty: 2 (the OpenAI range).</summary>
    public const float MaxOpenAIPenalty = 2f;

    /// <summary>The largest allowed <see cref="GenerationOptions.TopLogProbs"/>: 20 (the OpenAI limit).</summary>
    public const int MaxTopLogProbs = 20;

    /// <summary>The largest number of stop sequences one request may give: 16.</summary>
    public const int MaxStopSequences = 16;

    /// <summary>The default number of requests a <see cref="RequestScheduler"/> runs at once: 1 (one model forward at a time).</summary>
    public const int MaxConcurrency = 1;

    /// <summary>The default number of requests a <see cref="RequestScheduler"/> lets wait: 64.</summary>
    public const int QueueCapacity = 64;

    /// <summary>The default number of items buffered between a streaming producer and its consumer: 64.</summary>
    public const int StreamBufferCapacity = 64;
}
