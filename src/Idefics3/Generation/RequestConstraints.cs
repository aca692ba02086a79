using Idefics3.StructuredOutput;

namespace Idefics3.Generation;

/// <summary>
/// The one place where a request's <see cref="ITokenConstraint"/> is created from its options, during request
/// preparation. Structured output (issue 14) and tool calls (issue 15) add their constraints here.
/// </summary>
internal static class RequestConstraints
{
    /// <summary>Creates the constraint the request's options ask for, or null when decoding is unconstrained.</summary>
    /// <param name="options">The request's generation options.</param>
    /// <param name="resources">The model's shared constraint resources (token index, compiled grammars).</param>
    /// <returns>A fresh constraint for this request, or null.</returns>
    /// <exception cref="StructuredOutputSchemaException">The response format's schema cannot be used.</exception>
    public static ITokenConstraint? Create(GenerationOptions options, StructuredOutputResources resources)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(resources);
        ITokenConstraint? answer = options.ResponseFormat is { } format ? resources.CreateConstraint(format) : null;
        if (options.Tools is { } tools)
        {
            // Tool calls (issue 15); with a response format too, either calls or the JSON answer.
            return ToolCalling.ToolConstraints.Create(tools, resources, answer);
        }

        return answer;
    }
}
