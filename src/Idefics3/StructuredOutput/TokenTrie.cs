namespace Idefics3.StructuredOutput;

/// <summary>
/// A byte trie of token texts laid out flat in depth-first order: node i's subtree is nodes i..<see cref="End"/>(i)-1,
/// so a walk that rejects a byte skips the whole subtree with one assignment. Node 0 is the root (no byte).
/// </summary>
internal sealed class TokenTrie
{
    private readonly byte[] _byte;
    private readonly int[] _end;
    private readonly ushort[] _depth;
    private readonly int[] _tokenStart;
    private readonly int[] _tokens; // token ids in depth-first order; node i owns _tokens[_tokenStart[i].._tokenStart[i+1])

    /// <summary>Builds the trie of the given tokens.</summary>
    /// <param name="tokens">Token ids with their bytes (non-empty).</param>
    public TokenTrie(IReadOnlyList<(int Id, byte[] Bytes)> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var sorted = tokens.OrderBy(t => t.Bytes, ByteArrayComparer.Instance).ThenBy(t => t.Id).ToArray();
        var bytes = new List<byte> { 0 };
        var depth = new List<ushort> { 0 };
        var end = new List<int> { 0 };
        var tokenNode = new List<int>(sorted.Length);
        var path = new List<int> { 0 }; // path[d] = node at depth d
        byte[] previous = [];
        foreach (var (_, text) in sorted)
        {
            int common = 0;
            while (common < previous.Length && common < text.Length && previous[common] == text[common])
            {
                common++;
            }

            while (path.Count - 1 > common)
            {
                end[path[^1]] = bytes.Count;
                path.RemoveAt(path.Count - 1);
            }

            for (int d = common; d < text.Length; d++)
            {
                int node = bytes.Count;
                bytes.Add(text[d]);
                depth.Add((ushort)Math.Min(d + 1, ushort.MaxValue));
                end.Add(0);
                path.Add(node);
            }

            tokenNode.Add(path[^1]);
            previous = text;
        }

        while (path.Count > 0)
        {
            end[path[^1]] = bytes.Count;
            path.RemoveAt(path.Count - 1);
        }

        _byte = [.. bytes];
        _depth = [.. depth];
        _end = [.. end];
        _tokenStart = new int[_byte.Length + 1];
        foreach (int node in tokenNode)
        {
            _tokenStart[node + 1]++;
        }

        for (int i = 0; i < _byte.Length; i++)
        {
            _tokenStart[i + 1] += _tokenStart[i];
        }

        _tokens = sorted.Select(t => t.Id).ToArray(); // depth-first order equals sorted order
        MaxDepth = sorted.Length == 0 ? 0 : sorted.Max(t => t.Bytes.Length);
    }

    /// <summary>Gets the number of nodes, root included.</summary>
    public int NodeCount => _byte.Length;

    /// <summary>Gets the length of the longest token.</summary>
    public int MaxDepth { get; }

    /// <summary>The byte on the edge into node <paramref name="node"/>.</summary>
    public byte ByteAt(int node) => _byte[node];

    /// <summary>The depth of the node (its token-prefix length).</summary>
    public int DepthAt(int node) => _depth[node];

    /// <summary>The first node after the node's subtree.</summary>
    public int End(int node) => _end[node];

    /// <summary>The ids of the tokens whose bytes end exactly at the node.</summary>
    public ReadOnlySpan<int> TokensAt(int node) => _tokens.AsSpan(_tokenStart[node], _tokenStart[node + 1] - _tokenStart[node]);

    private sealed class ByteArrayComparer : IComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
