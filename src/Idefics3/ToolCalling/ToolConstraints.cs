using Idefics3.Generation;
using Idefics3.StructuredOutput;

namespace Idefics3.ToolCalling;

/// <summary>Creates the tool-call constraint of a request (called from <see cref="RequestConstraints"/>).</summary>
internal static class ToolConstraints
{
    // Call grammars by schema text: a tool loop sends the same tools every round.
    private static readonly JsonGrammarCache Grammars = new();

    /// <summary>
    /// The constraint for <paramref name="tools"/>: calls to the callable tools (after free text with
    /// <see cref="ToolChoice.Auto"/>); with a response-format constraint, either calls or that JSON answer.
    /// </summary>
    /// <param name="tools">The request's tools.</param>
    /// <param name="resources">The model's shared constraint resources (token index, compiled grammars).</param>
    /// <param name="answer">The response format's constraint, or null.</param>
    /// <returns>A fresh constraint for this request.</returns>
    /// <exception cref="StructuredOutputSchemaException">A tool's parameter schema uses a feature the call grammar does not support.</exception>
    public static ITokenConstraint Create(ToolSet tools, StructuredOutputResources resources, ITokenConstraint? answer)
    {
        ArgumentNullException.ThrowIfNull(tools);
        ArgumentNullException.ThrowIfNull(resources);
        JsonGrammar grammar = resources.Grammars.GetOrCompile(ToolCallSchema.Build(tools.Callable));
        TokenIndex index = resources.Index;
        if (answer is null)
        {
            return new ToolCallConstraint(index, grammar, tools.Choice, tools.AllowMultipleCalls);
        }

        // Tools and a response format: calls, or the JSON answer (no free text). A required tool mode leaves only calls.
        if (tools.Choice != ToolChoice.Auto)
        {
            return new ToolCallConstraint(index, grammar, tools.Choice, tools.AllowMultipleCalls);
        }

        return new EitherConstraint(new ToolCallConstraint(index, grammar, ToolChoice.RequireAny, tools.AllowMultipleCalls), answer);
    }

    /// <summary>The compiled call grammar of <paramref name="tools"/> (cached by schema text).</summary>
    /// <exception cref="StructuredOutputSchemaException">A parameter schema cannot be compiled.</exception>
    public static JsonGrammar Grammar(ToolSet tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        return Grammar(tools.Callable);
    }

    /// <summary>The compiled call grammar of <paramref name="tools"/> (cached by schema text).</summary>
    /// <exception cref="StructuredOutputSchemaException">A parameter schema cannot be compiled.</exception>
    public static JsonGrammar Grammar(IReadOnlyList<ToolDefinition> tools) => Grammars.GetOrCompile(ToolCallSchema.Build(tools));
}
