namespace Idefics3.StructuredOutput;

/// <summary>
/// An immutable matcher state: the set of live stacks (one, except while <c>anyOf</c> alternatives share a prefix).
/// The default value is the dead state (no stack: the bytes so far cannot be completed).
/// </summary>
internal readonly struct MatcherState
{
    private readonly MatchFrame? _single;
    private readonly MatchFrame[]? _many;

    /// <summary>Initializes a state of one stack.</summary>
    public MatcherState(MatchFrame single)
    {
        _single = single;
        _many = null;
    }

    /// <summary>Initializes a state of several stacks.</summary>
    public MatcherState(MatchFrame[] many)
    {
        _single = many.Length == 1 ? many[0] : null;
        _many = many.Length > 1 ? many : null;
    }

    /// <summary>Gets whether no stack is live.</summary>
    public bool IsDead => _single is null && _many is null;

    /// <summary>Gets the number of live stacks.</summary>
    public int Count => _many?.Length ?? (_single is null ? 0 : 1);

    /// <summary>Gets the top frame of stack <paramref name="index"/>.</summary>
    public MatchFrame this[int index] => _many is null ? _single! : _many[index];
}
