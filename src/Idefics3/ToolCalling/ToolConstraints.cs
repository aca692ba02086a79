using Idefics3.Generation;
using Idefics3.Tokenization;

namespace Idefics3.ToolCalling;

/// <summary>Creates the tool-call constraint of a request (called from <see cref="RequestConstraints"/>).</summary>
internal static class ToolConstraints
{
    /// <summary>
    /// The constraint for <paramref name="tools"/>: calls to the callable tools (after free text with
    /// <see cref="ToolChoice.Auto"/>); with a response-format constraint, either calls or that JSON answer.
    /// </summary>
    /// <param name="tools">The request's tools.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="jsonConstraint">Creates a fresh JSON constraint for a schema's text (the structured-output engine).</param>
    /// <param name="answer">The response format's constraint, or null.</param>
    /// <returns>A fresh constraint for this request.</returns>
    public static ITokenConstraint Create(ToolSet tools, HuggingFaceTokenizer tokenizer, Func<string, ITokenConstraint> jsonConstraint, ITokenConstraint? answer)
    {
        ArgumentNullException.ThrowIfNull(tools);
        ArgumentNullException.ThrowIfNull(jsonConstraint);
        TokenByteTable table = TokenByteTable.For(tokenizer);
        string schema = ToolCallSchema.Build(tools.Callable);

        // Compile (and validate) the call grammar now, so an unsupported parameter schema fails the request before it runs.
        ITokenConstraint first = jsonConstraint(schema);
        bool used = false;
        ITokenConstraint NewBody()
        {
            if (!used)
            {
                used = true;
                return first;
            }

            return jsonConstraint(schema);
        }

        if (answer is null)
        {
            return new ToolCallConstraint(table, tools.Choice, tools.AllowMultipleCalls, NewBody);
        }

        // Tools and a response format: calls, or the JSON answer. A required tool mode leaves only the calls.
        ToolChoice callsFirst = tools.Choice == ToolChoice.Auto ? ToolChoice.RequireAny : tools.Choice;
        var calls = new ToolCallConstraint(table, callsFirst, tools.AllowMultipleCalls, NewBody);
        return tools.Choice == ToolChoice.Auto ? new EitherConstraint(calls, answer) : calls;
    }
}
