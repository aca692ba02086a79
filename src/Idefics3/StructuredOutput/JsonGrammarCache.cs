namespace Idefics3.StructuredOutput;

/// <summary>
/// Compiled grammars by schema text, so that a schema used by many requests is compiled once. Thread-safe; keeps at
/// most <see cref="Capacity"/> grammars (the least recently used leaves first). Schemas that fail to compile are not
/// cached: each request gets the same typed error.
/// </summary>
internal sealed class JsonGrammarCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, JsonGrammar Grammar)>> _map = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, JsonGrammar Grammar)> _order = new();

    /// <summary>Initializes a cache of at most <paramref name="capacity"/> grammars.</summary>
    public JsonGrammarCache(int capacity = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>Gets the most grammars kept.</summary>
    public int Capacity { get; }

    /// <summary>Gets the number of grammars kept.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    /// <summary>The grammar of a schema (null: any JSON object), compiled on first use.</summary>
    /// <param name="schemaJson">The schema text, or null for <c>ChatResponseFormat.Json</c>.</param>
    /// <exception cref="StructuredOutputSchemaException">The schema cannot be compiled.</exception>
    public JsonGrammar GetOrCompile(string? schemaJson)
    {
        string key = schemaJson ?? string.Empty;
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var hit))
            {
                _order.Remove(hit);
                _order.AddFirst(hit);
                return hit.Value.Grammar;
            }
        }

        JsonGrammar grammar = schemaJson is null ? JsonSchemaCompiler.AnyObject() : JsonSchemaCompiler.Compile(schemaJson);
        lock (_lock)
        {
            if (!_map.ContainsKey(key))
            {
                _map[key] = _order.AddFirst((key, grammar));
                while (_map.Count > Capacity)
                {
                    _map.Remove(_order.Last!.Value.Key);
                    _order.RemoveLast();
                }
            }
        }

        return grammar;
    }
}
