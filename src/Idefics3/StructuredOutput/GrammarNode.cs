namespace Idefics3.StructuredOutput;

/// <summary>What a compiled grammar node matches.</summary>
internal enum GrammarNodeKind
{
    /// <summary>One of a fixed set of JSON texts (enum, const, null, true/false), matched through <see cref="GrammarNode.Literals"/>.</summary>
    Literals,

    /// <summary>A JSON number: integer or decimal, bounded digits, optional range.</summary>
    Number,

    /// <summary>A JSON string: UTF-8, length limits, optional pattern/format automaton.</summary>
    String,

    /// <summary>An array of <see cref="GrammarNode.Items"/>.</summary>
    Array,

    /// <summary>An object with a fixed sequence of properties (schema order).</summary>
    Object,

    /// <summary>An object with free keys and values of <see cref="GrammarNode.Items"/> (dictionaries, any object).</summary>
    Map,

    /// <summary>Any of <see cref="GrammarNode.Alternatives"/>.</summary>
    AnyOf,
}

/// <summary>
/// One node of a compiled JSON grammar. Nodes form a graph (recursive schemas point back to their ancestors); all
/// fields are set by <see cref="JsonSchemaCompiler"/> and never change afterwards.
/// </summary>
internal sealed class GrammarNode
{
    /// <summary>Gets or sets the kind.</summary>
    public GrammarNodeKind Kind { get; set; }

    /// <summary>Gets or sets the JSON pointer of the schema this node came from (for messages).</summary>
    public string Path { get; set; } = "#";

    /// <summary>Gets or sets the literal texts (Literals).</summary>
    public LiteralTrie? Literals { get; set; }

    /// <summary>Gets or sets the numeric spec (Number).</summary>
    public NumberSpec? Number { get; set; }

    /// <summary>Gets or sets the smallest length in characters (String).</summary>
    public int MinLength { get; set; }

    /// <summary>Gets or sets the largest length in UTF-16 code units (String).</summary>
    public int MaxLength { get; set; }

    /// <summary>Gets or sets the automaton the content must match (String with a format or pattern), or null.</summary>
    public ByteRegex? Regex { get; set; }

    /// <summary>Gets or sets the element node (Array) or value node (Map).</summary>
    public GrammarNode? Items { get; set; }

    /// <summary>Gets or sets the key node (Map): a string.</summary>
    public GrammarNode? Keys { get; set; }

    /// <summary>Gets or sets the fewest elements (Array).</summary>
    public int MinItems { get; set; }

    /// <summary>Gets or sets the most elements (Array).</summary>
    public int MaxItems { get; set; } = int.MaxValue;

    /// <summary>Gets or sets the properties in emission order (Object).</summary>
    public GrammarProperty[] Properties { get; set; } = [];

    /// <summary>Gets or sets the alternatives (AnyOf).</summary>
    public GrammarNode[] Alternatives { get; set; } = [];

    /// <summary>Gets or sets whether containers of this node count towards the nesting limit (free-form JSON).</summary>
    public bool DepthLimited { get; set; }

    /// <summary>Gets or sets the length in bytes of the shortest JSON text this node accepts (int.MaxValue: none).</summary>
    public int MinBytes { get; set; } = int.MaxValue;

    /// <summary>
    /// Gets or sets, for Object nodes, the fewest bytes from just before property i's key to the closing brace
    /// included (index Properties.Length: just the brace).
    /// </summary>
    public int[] Tail { get; set; } = [];
}

/// <summary>One property of an Object node.</summary>
/// <param name="Name">The property name.</param>
/// <param name="KeyBytes">The key as JSON text, quotes included.</param>
/// <param name="Value">The value's node.</param>
internal sealed record GrammarProperty(string Name, byte[] KeyBytes, GrammarNode Value);
