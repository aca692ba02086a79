using Idefics3.Tokenization;

namespace Idefics3.StructuredOutput;

/// <summary>
/// What constrained decoding shares across the requests of one loaded model: the vocabulary's token index (built on
/// first use, once) and the compiled grammars by schema text. Thread-safe.
/// </summary>
internal sealed class StructuredOutputResources
{
    private readonly Lazy<TokenIndex> _index;

    /// <summary>Initializes the resources of one model.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="endTokenIds">The ids that end generation.</param>
    public StructuredOutputResources(HuggingFaceTokenizer tokenizer, IEnumerable<int> endTokenIds)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        int[] ends = [.. endTokenIds];
        _index = new Lazy<TokenIndex>(() => TokenIndex.Build(tokenizer, ends), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Gets the token index (built on first access).</summary>
    public TokenIndex Index => _index.Value;

    /// <summary>Gets the compiled grammars.</summary>
    public JsonGrammarCache Grammars { get; } = new();

    /// <summary>Creates the per-request constraint of a response format.</summary>
    /// <exception cref="StructuredOutputSchemaException">The schema cannot be used.</exception>
    public JsonTokenConstraint CreateConstraint(JsonResponseFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        JsonGrammar grammar = Grammars.GetOrCompile(format.Schema);
        return new JsonTokenConstraint(new ByteMatcher(grammar), Index);
    }
}
