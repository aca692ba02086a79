namespace Idefics3.StructuredOutput;

/// <summary>
/// Thrown when a JSON schema given for structured output cannot be used: it is not valid JSON, it uses a keyword or
/// format this library does not support, or it allows no value at all.
/// </summary>
public sealed class StructuredOutputSchemaException : ArgumentException
{
    /// <summary>Initializes a new instance of the <see cref="StructuredOutputSchemaException"/> class.</summary>
    public StructuredOutputSchemaException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="StructuredOutputSchemaException"/> class.</summary>
    /// <param name="message">The message.</param>
    public StructuredOutputSchemaException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="StructuredOutputSchemaException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public StructuredOutputSchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="StructuredOutputSchemaException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="keyword">The schema keyword at fault, if one is.</param>
    /// <param name="schemaPath">The JSON pointer of the subschema at fault.</param>
    public StructuredOutputSchemaException(string message, string? keyword, string schemaPath)
        : base(message)
    {
        Keyword = keyword;
        SchemaPath = schemaPath;
    }

    /// <summary>Gets the schema keyword at fault (for example <c>oneOf</c>), or null when the fault is not one keyword.</summary>
    public string? Keyword { get; }

    /// <summary>Gets the JSON pointer of the subschema at fault (for example <c>#/properties/lines</c>), or null.</summary>
    public string? SchemaPath { get; }
}
