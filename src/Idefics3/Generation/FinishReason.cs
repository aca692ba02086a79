namespace Idefics3.Generation;

/// <summary>Why generation ended.</summary>
public enum FinishReason
{
    /// <summary>The model produced an end-of-sequence token or one of <see cref="GenerationOptions.StopTokenIds"/>.</summary>
    Stop = 0,

    /// <summary>
    /// The decoded output contained one of <see cref="GenerationOptions.StopSequences"/>; the output ends before it.
    /// Chat surfaces report it as a normal stop.
    /// </summary>
    StopSequence = 1,

    /// <summary>The output reached <see cref="GenerationOptions.EffectiveMaxNewTokens"/> or the model's context length.</summary>
    Length = 2,

    /// <summary>The caller cancelled the request after generation had started; the output holds what was produced.</summary>
    Cancelled = 3,
}
