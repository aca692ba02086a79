namespace Idefics3.Generation;

/// <summary>Token counts of one generation request.</summary>
public sealed record GenerationUsage
{
    /// <summary>Gets the number of prompt tokens, image tokens included.</summary>
    public int InputTokens { get; init; }

    /// <summary>Gets how many of <see cref="InputTokens"/> are image placeholder tokens.</summary>
    public int ImageTokens { get; init; }

    /// <summary>Gets the number of generated tokens, a final stop token included.</summary>
    public int OutputTokens { get; init; }

    /// <summary>Gets how many of <see cref="InputTokens"/> were served from a prefix cache instead of being computed.</summary>
    public int CachedTokens { get; init; }

    /// <summary>Gets <see cref="InputTokens"/> plus <see cref="OutputTokens"/>.</summary>
    public int TotalTokens => InputTokens + OutputTokens;
}
