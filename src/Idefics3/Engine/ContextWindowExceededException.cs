namespace Idefics3;

/// <summary>
/// The prompt (images included) plus the requested output does not fit in the model's context window. Thrown before
/// any compute, with the numbers needed to fix the request.
/// </summary>
public sealed class ContextWindowExceededException : InvalidOperationException
{
    /// <summary>Initializes a new instance of the <see cref="ContextWindowExceededException"/> class.</summary>
    public ContextWindowExceededException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ContextWindowExceededException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public ContextWindowExceededException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ContextWindowExceededException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ContextWindowExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ContextWindowExceededException"/> class with the token counts.</summary>
    /// <param name="promptTokens">Tokens in the prompt, image tokens included.</param>
    /// <param name="imageTokens">Of which image tokens.</param>
    /// <param name="requestedOutputTokens">Tokens of output requested.</param>
    /// <param name="contextWindow">The model's context window.</param>
    public ContextWindowExceededException(int promptTokens, int imageTokens, int requestedOutputTokens, int contextWindow)
        : base(
            $"The prompt has {promptTokens} tokens ({imageTokens} of them for images) and {requestedOutputTokens} output tokens were requested: " +
            $"{(long)promptTokens + requestedOutputTokens} in all, {(long)promptTokens + requestedOutputTokens - contextWindow} more than the model's context window of {contextWindow}. " +
            "Shorten the conversation, request fewer output tokens, or send fewer or smaller images (turn image splitting off or lower the longest edge; " +
            "Idefics3EngineOptions.ReduceImageDetailToFit does the former automatically).")
    {
        PromptTokens = promptTokens;
        ImageTokens = imageTokens;
        RequestedOutputTokens = requestedOutputTokens;
        ContextWindow = contextWindow;
    }

    /// <summary>Gets the prompt's token count, image tokens included.</summary>
    public int PromptTokens { get; }

    /// <summary>Gets the prompt's image tokens.</summary>
    public int ImageTokens { get; }

    /// <summary>Gets the requested output tokens.</summary>
    public int RequestedOutputTokens { get; }

    /// <summary>Gets the model's context window in tokens.</summary>
    public int ContextWindow { get; }

    /// <summary>Gets by how many tokens the request is over the window (computed without overflow).</summary>
    public long Excess => (long)PromptTokens + RequestedOutputTokens - ContextWindow;
}
