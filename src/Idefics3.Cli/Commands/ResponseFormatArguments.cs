using System.CommandLine;
using Idefics3.StructuredOutput;

namespace Idefics3.Cli.Commands;

/// <summary><c>--json-schema FILE</c> and <c>--json-object</c>: constrain the answer to JSON (see docs/structured-output.md).</summary>
internal sealed class ResponseFormatArguments
{
    public Option<string?> JsonSchema { get; } = new("--json-schema")
    {
        Description = "Answer with JSON that matches the JSON schema in FILE (decoding is constrained: the output always parses and validates).",
        HelpName = "FILE",
    };

    public Option<bool> JsonObject { get; } = new("--json-object")
    {
        Description = "Answer with a JSON object (any shape; decoding is constrained).",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(JsonSchema);
        command.Options.Add(JsonObject);
    }

    /// <summary>The requested format (checked and compiled before the model loads), or null for free text.</summary>
    /// <exception cref="UsageException">Both options, an unreadable file, or a schema the grammar cannot express.</exception>
    public JsonResponseFormat? Read(ParseResult parse)
    {
        string? path = parse.GetValue(JsonSchema);
        bool anyObject = parse.GetValue(JsonObject);
        if (path is not null && anyObject)
        {
            throw new UsageException("Use either --json-schema or --json-object, not both.");
        }

        if (path is null)
        {
            return anyObject ? JsonResponseFormat.AnyObject : null;
        }

        string schema;
        try
        {
            schema = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"Cannot read the JSON schema file '{path}': {ex.Message}", ex);
        }

        JsonResponseFormat format = JsonResponseFormat.ForSchema(schema, Path.GetFileNameWithoutExtension(path));
        try
        {
            format.Validate(); // fail before loading the model
        }
        catch (StructuredOutputSchemaException ex)
        {
            throw new UsageException($"{path}: {ex.Message}", ex);
        }

        return format;
    }
}
