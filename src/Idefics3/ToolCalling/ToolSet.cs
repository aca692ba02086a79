using System.Text.Json;
using Idefics3.StructuredOutput;
using Microsoft.Extensions.AI;

namespace Idefics3.ToolCalling;

/// <summary>
/// The tools of one request, validated: unique names, object parameter schemas, a known required name. The prompt
/// always lists every tool (so a follow-up round with another tool mode reuses the cached prompt); <see cref="Callable"/>
/// is what the constraint lets the model call.
/// </summary>
internal sealed class ToolSet
{
    private ToolSet(IReadOnlyList<ToolDefinition> tools, ToolChoice choice, string? requiredName, bool allowMultipleCalls)
    {
        Tools = tools;
        Choice = choice;
        RequiredName = requiredName;
        AllowMultipleCalls = allowMultipleCalls;
        Callable = requiredName is null ? tools : [.. tools.Where(t => t.Name == requiredName)];
    }

    /// <summary>Gets every offered tool, in the caller's order.</summary>
    public IReadOnlyList<ToolDefinition> Tools { get; }

    /// <summary>Gets the tools the model may call in this request (one with <see cref="ToolChoice.RequireSpecific"/>).</summary>
    public IReadOnlyList<ToolDefinition> Callable { get; }

    /// <summary>Gets what the model may or must do.</summary>
    public ToolChoice Choice { get; }

    /// <summary>Gets the name of the required tool with <see cref="ToolChoice.RequireSpecific"/>.</summary>
    public string? RequiredName { get; }

    /// <summary>Gets a value indicating whether one answer may hold several calls.</summary>
    public bool AllowMultipleCalls { get; }

    /// <summary>Reads and validates the tools of <paramref name="options"/>; null when the request offers none or its tool mode is None.</summary>
    /// <exception cref="ArgumentException">Duplicate or malformed names, a parameter schema that is not an object schema, or a required tool that is not offered.</exception>
    /// <exception cref="StructuredOutputSchemaException">A parameter schema uses a feature the call grammar does not support (an <see cref="ArgumentException"/>).</exception>
    /// <exception cref="NotSupportedException">A tool that is not a function (a hosted tool such as code interpreter or web search).</exception>
    public static ToolSet? FromOptions(ChatOptions? options)
    {
        if (options?.Tools is not { Count: > 0 } tools || options.ToolMode is NoneChatToolMode)
        {
            return null;
        }

        var definitions = new List<ToolDefinition>(tools.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (AITool tool in tools)
        {
            ArgumentNullException.ThrowIfNull(tool, nameof(options));
            if (tool is not AIFunctionDeclaration function)
            {
                throw new NotSupportedException(
                    $"Tool '{tool.Name}' ({tool.GetType().Name}) is not a function; this client can offer only functions (AIFunction / AIFunctionDeclaration) to the model.");
            }

            CheckName(function.Name);
            if (!names.Add(function.Name))
            {
                throw new ArgumentException($"Two tools are named '{function.Name}'; tool names must be unique.", nameof(options));
            }

            var definition = new ToolDefinition(function.Name, function.Description ?? string.Empty, CheckSchema(function.Name, function.JsonSchema));
            CompileCall(definition);
            definitions.Add(definition);
        }

        bool multiple = options.AllowMultipleToolCalls ?? true;
        switch (options.ToolMode)
        {
            case RequiredChatToolMode { RequiredFunctionName: { } name }:
                if (!names.Contains(name))
                {
                    throw new ArgumentException(
                        $"ToolMode requires tool '{name}', which is not among the offered tools ({string.Join(", ", names)}).", nameof(options));
                }

                return new ToolSet(definitions, ToolChoice.RequireSpecific, name, multiple);
            case RequiredChatToolMode:
                return new ToolSet(definitions, ToolChoice.RequireAny, null, multiple);
            default:
                return new ToolSet(definitions, ToolChoice.Auto, null, multiple);
        }
    }

    /// <summary>Compiles the tool's call grammar now (cached), so an unsupported schema fails with the tool's name before the model runs.</summary>
    private static void CompileCall(ToolDefinition tool)
    {
        try
        {
            ToolConstraints.Grammar([tool]);
        }
        catch (StructuredOutputSchemaException error)
        {
            throw new StructuredOutputSchemaException($"The parameter schema of tool '{tool.Name}' cannot be used: {error.Message}", error);
        }
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            throw new ArgumentException(
                $"Tool name '{name}' is not valid: use 1 to 128 ASCII letters, digits, '_', '-' or '.'.", nameof(name));
        }
    }

    private static JsonElement CheckSchema(string name, JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException($"The parameter schema of tool '{name}' must be a JSON object schema; got {schema.ValueKind}.", nameof(schema));
        }

        if (schema.TryGetProperty("type", out JsonElement type) && !(type.ValueKind == JsonValueKind.String && type.GetString() == "object"))
        {
            throw new ArgumentException(
                $"The parameter schema of tool '{name}' must describe an object (\"type\": \"object\"); got \"type\": {type.GetRawText()}.", nameof(schema));
        }

        return schema.Clone();
    }
}
