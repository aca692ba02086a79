namespace Idefics3.ToolCalling;

/// <summary>
/// Progress through one of several fixed byte strings (protocol markup such as <c>&lt;tool_call&gt;</c>): a token fits
/// when the bytes matched so far plus its own are a prefix of one of them. Mutable; one per use.
/// </summary>
internal sealed class LiteralSet
{
    private readonly byte[][] _alternatives;
    private readonly List<byte> _matched = [];

    /// <summary>Initializes a new instance of the <see cref="LiteralSet"/> class.</summary>
    public LiteralSet(params string[] alternatives)
    {
        _alternatives = [.. alternatives.Select(a => System.Text.Encoding.UTF8.GetBytes(a))];
    }

    /// <summary>Gets a value indicating whether nothing has been matched yet.</summary>
    public bool IsEmpty => _matched.Count == 0;

    /// <summary>Gets a value indicating whether the bytes so far equal one of the alternatives.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>Whether <paramref name="bytes"/> may follow.</summary>
    public bool Fits(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0 || IsComplete)
        {
            return false;
        }

        foreach (byte[] alternative in _alternatives)
        {
            int end = _matched.Count + bytes.Length;
            if (end <= alternative.Length && Matched(alternative) && bytes.SequenceEqual(alternative.AsSpan(_matched.Count, bytes.Length)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Adds <paramref name="bytes"/>, which must fit.</summary>
    public void Add(ReadOnlySpan<byte> bytes)
    {
        if (!Fits(bytes))
        {
            throw new InvalidOperationException("The token does not continue the protocol text.");
        }

        _matched.AddRange(bytes);
        IsComplete = _alternatives.Any(a => a.Length == _matched.Count && Matched(a));
    }

    private bool Matched(byte[] alternative)
    {
        for (int i = 0; i < _matched.Count; i++)
        {
            if (alternative[i] != _matched[i])
            {
                return false;
            }
        }

        return true;
    }
}
