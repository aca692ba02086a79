namespace Idefics3.StructuredOutput;

/// <summary>Limits applied when a JSON schema is compiled into a grammar (internal tuning; the defaults suit chat).</summary>
internal sealed record GrammarOptions
{
    /// <summary>Gets the default options.</summary>
    public static GrammarOptions Default { get; } = new();

    /// <summary>Gets the longest string (UTF-16 code units) when the schema sets no smaller maxLength.</summary>
    public int MaxStringLength { get; init; } = 2048;

    /// <summary>Gets the longest object key of a dictionary or free-form object.</summary>
    public int MaxKeyLength { get; init; } = 64;

    /// <summary>Gets the most whitespace bytes (space or newline) in one gap between tokens of the document.</summary>
    public int MaxWhitespace { get; init; } = 6;

    /// <summary>Gets the most integer digits of an integer without bounds (9: every such value fits an <see cref="int"/>).</summary>
    public int MaxIntegerDigits { get; init; } = 9;

    /// <summary>Gets the most fraction digits of a number.</summary>
    public int MaxFractionDigits { get; init; } = 6;

    /// <summary>Gets the deepest nesting of free-form JSON (true / {} schemas, any-object format).</summary>
    public int MaxFreeDepth { get; init; } = 16;

    /// <summary>Gets whether an object emits every property of its schema (in schema order), not only the required ones.</summary>
    public bool EmitAllProperties { get; init; } = true;

    /// <summary>Gets the most values an enum may list.</summary>
    public int MaxEnumValues { get; init; } = 10_000;

    /// <summary>Gets the most grammar nodes a schema may compile to.</summary>
    public int MaxNodes { get; init; } = 20_000;

    /// <summary>Gets the longest schema text accepted, in characters.</summary>
    public int MaxSchemaLength { get; init; } = 4_000_000;
}
