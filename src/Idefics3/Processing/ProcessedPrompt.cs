namespace Idefics3.Processing;

/// <summary>Model inputs for one prompt, as plain arrays (the engine converts them to tensors at the model boundary).</summary>
public sealed class ProcessedPrompt
{
    internal ProcessedPrompt(
        string prompt,
        int[] inputIds,
        float[]? pixelValues,
        int[]? pixelValuesShape,
        byte[]? pixelAttentionMask,
        IReadOnlyList<PromptImageInfo> images,
        TokenAccount tokens)
    {
        Prompt = prompt;
        InputIds = inputIds;
        PixelValues = pixelValues;
        PixelValuesShape = pixelValuesShape;
        PixelAttentionMask = pixelAttentionMask;
        Images = images;
        Tokens = tokens;
    }

    /// <summary>Gets the expanded prompt text that was tokenized (each <c>&lt;image&gt;</c> replaced by its tile block).</summary>
    public string Prompt { get; }

#pragma warning disable CA1819 // Plain arrays are the contract with the engine.
    /// <summary>Gets the token ids (int, as the tokenizer gives them; the engine widens them to int64 only where it builds the tensor).</summary>
    public int[] InputIds { get; }

    /// <summary>Gets the pixel values, float32 <c>[frames, 3, H, W]</c> (frames of all images in order, zero-padded to the largest frame), or null without images.</summary>
    public float[]? PixelValues { get; }

    /// <summary>Gets the shape of <see cref="PixelValues"/>: <c>[frames, 3, H, W]</c>, or null.</summary>
    public int[]? PixelValuesShape { get; }

    /// <summary>Gets the pixel attention mask <c>[frames, H, W]</c>: 1 on real pixels, 0 on padding; null without images.</summary>
    public byte[]? PixelAttentionMask { get; }
#pragma warning restore CA1819

    /// <summary>Gets per-image results in prompt order.</summary>
    public IReadOnlyList<PromptImageInfo> Images { get; }

    /// <summary>Gets the token accounting.</summary>
    public TokenAccount Tokens { get; }
}
