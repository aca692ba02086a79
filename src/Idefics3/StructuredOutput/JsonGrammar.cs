namespace Idefics3.StructuredOutput;

/// <summary>
/// A JSON schema compiled to a byte-level grammar: immutable and shared by every request that uses the same schema
/// text (see <see cref="JsonGrammarCache"/>). Create with <see cref="JsonSchemaCompiler"/>.
/// </summary>
internal sealed class JsonGrammar
{
    /// <summary>Initializes a new grammar.</summary>
    /// <param name="root">The root node.</param>
    /// <param name="options">The options it was compiled with.</param>
    /// <param name="nodeCount">How many nodes it has (for diagnostics and limits).</param>
    public JsonGrammar(GrammarNode root, GrammarOptions options, int nodeCount)
    {
        Root = root;
        Options = options;
        NodeCount = nodeCount;
    }

    /// <summary>Gets the root node.</summary>
    public GrammarNode Root { get; }

    /// <summary>Gets the options the grammar was compiled with.</summary>
    public GrammarOptions Options { get; }

    /// <summary>Gets the number of nodes.</summary>
    public int NodeCount { get; }
}
