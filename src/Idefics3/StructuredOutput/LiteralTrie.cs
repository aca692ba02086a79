namespace Idefics3.StructuredOutput;

/// <summary>
/// The fixed JSON texts a node accepts (enum values, a const, null, true, false) as a byte trie: the matcher walks it
/// one byte at a time. Node 0 is the root.
/// </summary>
internal sealed class LiteralTrie
{
    private readonly Dictionary<int, int> _children = []; // node * 256 + byte -> child
    private readonly List<bool> _terminal = [false];
    private readonly List<bool> _hasChildren = [false];
    private int[] _minRemaining = [];

    /// <summary>Initializes a new trie holding <paramref name="texts"/> (duplicates are merged).</summary>
    /// <param name="texts">The JSON texts as UTF-8.</param>
    public LiteralTrie(IEnumerable<byte[]> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        foreach (byte[] text in texts)
        {
            int node = 0;
            foreach (byte b in text)
            {
                if (!_children.TryGetValue((node << 8) | b, out int child))
                {
                    child = _terminal.Count;
                    _terminal.Add(false);
                    _hasChildren.Add(false);
                    _children[(node << 8) | b] = child;
                    _hasChildren[node] = true;
                }

                node = child;
            }

            _terminal[node] = true;
            Count++;
        }

        ComputeMinRemaining();
    }

    /// <summary>Gets the number of texts added.</summary>
    public int Count { get; }

    /// <summary>Gets the length of the shortest text (int.MaxValue when there is none).</summary>
    public int MinLength => _minRemaining[0];

    /// <summary>The child of <paramref name="node"/> by <paramref name="value"/>, or -1.</summary>
    public int Child(int node, byte value) => _children.TryGetValue((node << 8) | value, out int child) ? child : -1;

    /// <summary>True when a text ends at the node.</summary>
    public bool IsTerminal(int node) => _terminal[node];

    /// <summary>True when some text continues past the node.</summary>
    public bool HasChildren(int node) => _hasChildren[node];

    /// <summary>The fewest bytes from the node to the end of a text.</summary>
    public int MinRemaining(int node) => _minRemaining[node];

    private void ComputeMinRemaining()
    {
        int n = _terminal.Count;
        _minRemaining = new int[n];
        var parent = new int[n];
        for (int i = 0; i < n; i++)
        {
            _minRemaining[i] = _terminal[i] ? 0 : int.MaxValue;
        }

        foreach (var (key, child) in _children)
        {
            parent[child] = key >> 8;
        }

        // Children always have larger ids than their parents, so one backward pass settles every node.
        for (int i = n - 1; i > 0; i--)
        {
            if (_minRemaining[i] != int.MaxValue)
            {
                _minRemaining[parent[i]] = Math.Min(_minRemaining[parent[i]], _minRemaining[i] + 1);
            }
        }
    }
}
