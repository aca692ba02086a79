namespace Idefics3.StructuredOutput;

/// <summary>What a <see cref="MatchFrame"/> is matching.</summary>
internal enum FrameKind : byte
{
    /// <summary>The bottom frame: literal prefix, optional leading space, the root value, literal suffix.</summary>
    Document,

    /// <summary>An object with fixed properties.</summary>
    Object,

    /// <summary>An object with free keys.</summary>
    Map,

    /// <summary>An array.</summary>
    Array,

    /// <summary>A string.</summary>
    String,

    /// <summary>A number.</summary>
    Number,

    /// <summary>One of a set of fixed texts.</summary>
    Literal,
}

/// <summary>
/// One frame of the matcher's pushdown stack. Stacks are persistent linked lists: a step creates new frames and
/// shares the parents, so any earlier state stays valid (the token-trie walk keeps one state per depth and never
/// undoes anything). Fields are written only by <see cref="ByteMatcher"/> while it builds a frame, never afterwards.
/// </summary>
internal sealed class MatchFrame
{
    /// <summary>Initializes a new frame.</summary>
    public MatchFrame(FrameKind kind, GrammarNode node, MatchFrame? parent)
    {
        Kind = kind;
        Node = node;
        Parent = parent;
        Depth = parent is null ? 0 : parent.Depth + 1;
        FracDigits = -1;
    }

    /// <summary>Initializes a copy of <paramref name="other"/> (the caller then changes what differs).</summary>
    public MatchFrame(MatchFrame other)
    {
        Kind = other.Kind;
        Node = other.Node;
        Parent = other.Parent;
        Depth = other.Depth;
        Phase = other.Phase;
        Index = other.Index;
        Pos = other.Pos;
        Ws = 0;
        Cp = other.Cp;
        U16 = other.U16;
        Lo = other.Lo;
        Hi = other.Hi;
        Regex = other.Regex;
        Negative = other.Negative;
        ZeroLead = other.ZeroLead;
        Magnitude = other.Magnitude;
        IntDigits = other.IntDigits;
        FracDigits = other.FracDigits;
    }

    /// <summary>The kind.</summary>
    public readonly FrameKind Kind;

    /// <summary>The grammar node (the root node for the document frame).</summary>
    public readonly GrammarNode Node;

    /// <summary>The frame below, already in the state it takes once this frame's value is complete.</summary>
    public readonly MatchFrame? Parent;

    /// <summary>The number of frames below.</summary>
    public readonly int Depth;

    /// <summary>The phase (meaning depends on <see cref="Kind"/>).</summary>
    public int Phase;

    /// <summary>Property index, element count, trie node, pending continuation bytes, or prefix/suffix position.</summary>
    public int Index;

    /// <summary>Position inside a property key.</summary>
    public int Pos;

    /// <summary>Whitespace bytes in the current gap.</summary>
    public int Ws;

    /// <summary>String: characters so far (code points).</summary>
    public int Cp;

    /// <summary>String: length so far in UTF-16 code units.</summary>
    public int U16;

    /// <summary>String: the range of the next UTF-8 continuation byte.</summary>
    public byte Lo;

    /// <summary>String: the range of the next UTF-8 continuation byte.</summary>
    public byte Hi;

    /// <summary>String: the pattern automaton's state.</summary>
    public UInt128 Regex;

    /// <summary>Number: a leading minus sign.</summary>
    public bool Negative;

    /// <summary>Number: the integer part is "0".</summary>
    public bool ZeroLead;

    /// <summary>Number: the value of the digits so far.</summary>
    public decimal Magnitude;

    /// <summary>Number: integer digits so far.</summary>
    public int IntDigits;

    /// <summary>Number: fraction digits so far, -1 before the point.</summary>
    public int FracDigits;

    /// <summary>The fewest bytes that finish this frame and every frame below (saturating).</summary>
    public int Close;
}
