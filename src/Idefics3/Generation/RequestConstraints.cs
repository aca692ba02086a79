using Idefics3.Tokenization;

namespace Idefics3.Generation;

/// <summary>
/// The one place where a request's <see cref="ITokenConstraint"/> is created from its options, during request
/// preparation. Structured output (issue 14) and tool calls (issue 15) add their constraints here.
/// </summary>
internal static class RequestConstraints
{
    /// <summary>Creates the constraint the request's options ask for, or null when decoding is unconstrained.</summary>
    /// <param name="options">The request's generation options.</param>
    /// <param name="tokenizer">The model's tokenizer (a constraint maps token ids to text).</param>
    /// <returns>A fresh constraint for this request, or null.</returns>
    public static ITokenConstraint? Create(GenerationOptions options, HuggingFaceTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ITokenConstraint? answer = null;
        if (options.Tools is { } tools)
        {
            // Tool calls (issue 15); with a response format too, either calls or the JSON answer.
            return ToolCalling.ToolConstraints.Create(tools, tokenizer, answer);
        }

        return answer;
    }
}
