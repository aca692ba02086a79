using System.Text.Json;
using Idefics3.Processing;

namespace Idefics3.StructuredOutput;

/// <summary>
/// Asks for JSON output: decoding is constrained so that the answer is always a complete JSON document that matches
/// <see cref="Schema"/> (or, without a schema, any JSON object). Set it on <see cref="Generation.GenerationOptions.ResponseFormat"/>.
/// </summary>
/// <remarks>
/// Supported schema keywords: <c>type</c> (also arrays with <c>"null"</c>), <c>properties</c>, <c>required</c>,
/// <c>additionalProperties</c>, <c>items</c>, <c>minItems</c>/<c>maxItems</c>, <c>enum</c>, <c>const</c>, <c>anyOf</c>,
/// local <c>$ref</c> (recursion included), <c>format</c> (date-time, date, time, uuid, uri, email), <c>pattern</c> (a
/// safe subset), <c>minLength</c>/<c>maxLength</c>, <c>minimum</c>/<c>maximum</c>/<c>exclusiveMinimum</c>/<c>exclusiveMaximum</c>,
/// and <c>true</c>/<c>{}</c> schemas; annotations are ignored. Any other keyword is rejected with
/// <see cref="StructuredOutputSchemaException"/> naming it. Every property of an object is emitted, in schema order.
/// See docs/structured-output.md.
/// </remarks>
public sealed record JsonResponseFormat
{
    private JsonResponseFormat(string? schema, string? name, string? description)
    {
        Schema = schema;
        Name = name;
        Description = description;
    }

    /// <summary>Gets the format that allows any JSON object.</summary>
    public static JsonResponseFormat AnyObject { get; } = new(null, null, null);

    /// <summary>Gets the JSON schema text, or null for any JSON object.</summary>
    public string? Schema { get; }

    /// <summary>Gets the schema's name (shown to the model), or null.</summary>
    public string? Name { get; }

    /// <summary>Gets the schema's description (shown to the model), or null.</summary>
    public string? Description { get; }

    /// <summary>Creates a format from a JSON schema.</summary>
    /// <param name="schema">The JSON schema text.</param>
    /// <param name="name">A name for the schema, shown to the model; null for none.</param>
    /// <param name="description">A description, shown to the model; null for none.</param>
    /// <exception cref="ArgumentException">The schema is empty.</exception>
    public static JsonResponseFormat ForSchema(string schema, string? name = null, string? description = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        return new JsonResponseFormat(schema, name, description);
    }

    /// <summary>Creates a format from a JSON schema element.</summary>
    /// <param name="schema">The JSON schema.</param>
    /// <param name="name">A name for the schema, shown to the model; null for none.</param>
    /// <param name="description">A description, shown to the model; null for none.</param>
    public static JsonResponseFormat ForSchema(JsonElement schema, string? name = null, string? description = null) =>
        ForSchema(schema.GetRawText(), name, description);

    /// <summary>
    /// Compiles the schema now, so an unsupported schema fails before a model is loaded (the engine compiles it again,
    /// and caches it, when a request uses the format).
    /// </summary>
    /// <exception cref="StructuredOutputSchemaException">The schema is not valid JSON or uses a keyword that is not supported.</exception>
    public void Validate()
    {
        if (Schema is not null)
        {
            _ = JsonSchemaCompiler.Compile(Schema);
        }
    }

    /// <summary>
    /// Adds the short system instruction that shows this format to the model: appended to the conversation's leading
    /// system message, or inserted as a new one. The grammar makes the output valid, but the model cannot see it, so
    /// without the instruction it would not know what the fields mean. <see cref="Idefics3ChatClient"/> does
    /// this itself; callers of <see cref="Idefics3Engine.GenerateAsync"/> call it before generating.
    /// </summary>
    /// <param name="conversation">The conversation to change.</param>
    public void AddInstructionTo(IList<PromptMessage> conversation) => SchemaInstruction.AddTo(conversation, this);
}
