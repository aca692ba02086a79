namespace Idefics3.StructuredOutput;

/// <summary>
/// The byte-level matcher of a <see cref="JsonGrammar"/>, optionally embedded between a literal prefix and suffix
/// (for example <c>&lt;tool_call&gt;</c> ... <c>&lt;/tool_call&gt;</c>). It is a small pushdown automaton whose states
/// are immutable (<see cref="MatcherState"/>), so callers may try bytes from any state without undoing anything.
/// Every live state can still be completed: each step checks that the value it starts or extends can end validly
/// (number ranges, string lengths and patterns, required items), which keeps token masks from ever becoming empty.
/// </summary>
/// <remarks>
/// Text shape: at most one space or newline before the root value (after the prefix), at most
/// <see cref="GrammarOptions.MaxWhitespace"/> spaces or newlines in each gap inside containers and before the suffix,
/// nothing after the root value or the suffix. Strings are valid UTF-8 without raw control characters and without
/// <c>\u</c> escapes; object properties come in the grammar's order.
/// </remarks>
internal sealed class ByteMatcher
{
    private const int MaxStacks = 32;

    // Document phases.
    private const int DocPrefix = 0, DocStart = 1, DocSuffix = 2, DocDone = 3;

    // Object phases.
    private const int ObjBeforeKey = 0, ObjKey = 1, ObjAfterKey = 2, ObjAfterColon = 3, ObjAfterValue = 4;

    // Map phases.
    private const int MapOpen = 0, MapAfterKey = 1, MapAfterColon = 2, MapAfterValue = 3, MapAfterComma = 4;

    // Array phases.
    private const int ArrOpen = 0, ArrAfterValue = 1, ArrAfterComma = 2;

    // String phases.
    private const int StrContent = 0, StrEscape = 1, StrUtf8 = 2;

    // Number phases.
    private const int NumNeg = 0, NumZero = 1, NumInt = 2, NumDot = 3, NumFrac = 4;

    private readonly byte[] _prefix;
    private readonly byte[] _suffix;
    private readonly int _maxWs;
    private readonly int _maxFreeDepth;

    /// <summary>Initializes a matcher for <paramref name="grammar"/> between <paramref name="prefix"/> and <paramref name="suffix"/>.</summary>
    /// <param name="grammar">The compiled grammar.</param>
    /// <param name="prefix">Literal text before the value (UTF-8); empty for none.</param>
    /// <param name="suffix">Literal text after the value (UTF-8); empty for none.</param>
    public ByteMatcher(JsonGrammar grammar, ReadOnlySpan<byte> prefix = default, ReadOnlySpan<byte> suffix = default)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        Grammar = grammar;
        _prefix = prefix.ToArray();
        _suffix = suffix.ToArray();
        _maxWs = grammar.Options.MaxWhitespace;
        _maxFreeDepth = grammar.Options.MaxFreeDepth;
        var doc = new MatchFrame(FrameKind.Document, grammar.Root, null) { Phase = _prefix.Length > 0 ? DocPrefix : DocStart };
        Start = new MatcherState(Seal(doc));
    }

    /// <summary>Gets the grammar.</summary>
    public JsonGrammar Grammar { get; }

    /// <summary>Gets the state before any byte.</summary>
    public MatcherState Start { get; }

    /// <summary>Advances by one byte; the dead state when the byte is not allowed.</summary>
    public MatcherState Advance(in MatcherState state, byte value)
    {
        var results = default(Results);
        for (int i = 0; i < state.Count; i++)
        {
            Step(state[i], value, ref results);
        }

        return results.ToState();
    }

    /// <summary>Advances by several bytes; the dead state as soon as one is not allowed.</summary>
    public MatcherState Advance(in MatcherState state, ReadOnlySpan<byte> bytes)
    {
        MatcherState current = state;
        foreach (byte b in bytes)
        {
            current = Advance(current, b);
            if (current.IsDead)
            {
                break;
            }
        }

        return current;
    }

    /// <summary>True when the bytes so far form a complete document (the output may end here).</summary>
    public static bool IsComplete(in MatcherState state)
    {
        for (int i = 0; i < state.Count; i++)
        {
            MatchFrame top = state[i];
            if (IsDone(top) || (IsEndable(top) && top.Parent is { } parent && IsDone(parent)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the document is complete and no byte may follow.</summary>
    public static bool MustEnd(in MatcherState state)
    {
        if (state.IsDead)
        {
            return false;
        }

        for (int i = 0; i < state.Count; i++)
        {
            if (!IsDone(state[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The fewest bytes that complete the document from the state (int.MaxValue when dead).</summary>
    public static int BytesToClose(in MatcherState state)
    {
        int best = int.MaxValue;
        for (int i = 0; i < state.Count; i++)
        {
            best = Math.Min(best, state[i].Close);
        }

        return best;
    }

    /// <summary>
    /// True when every allowed continuation of the state is decided by the string-content fast path: one stack whose
    /// top is a plain string (no pattern) between characters, past its minimum length. Then any token made only of
    /// ordinary string characters (see <see cref="TokenIndex"/>) is allowed when it fits in <paramref name="capacity"/>.
    /// </summary>
    public static bool IsPlainStringContent(in MatcherState state, out int capacity)
    {
        capacity = 0;
        if (state.Count != 1)
        {
            return false;
        }

        MatchFrame top = state[0];
        if (top.Kind != FrameKind.String || top.Phase != StrContent || top.Node.Regex is not null || top.Cp < top.Node.MinLength)
        {
            return false;
        }

        capacity = top.Node.MaxLength - top.U16;
        return true;
    }

    private static bool IsDone(MatchFrame frame) => frame.Kind == FrameKind.Document && frame.Phase == DocDone;

    private static bool IsEndable(MatchFrame frame) => frame.Kind switch
    {
        FrameKind.Number => frame.Phase is NumZero or NumInt or NumFrac && frame.Node.Number!.InRange(frame.Negative, frame.Magnitude),
        FrameKind.Literal => frame.Node.Literals!.IsTerminal(frame.Index),
        _ => false,
    };

    private static bool IsWs(byte b) => b is (byte)' ' or (byte)'\n';

    private void Step(MatchFrame f, byte b, ref Results results)
    {
        switch (f.Kind)
        {
            case FrameKind.Document:
                StepDocument(f, b, ref results);
                break;
            case FrameKind.Object:
                StepObject(f, b, ref results);
                break;
            case FrameKind.Map:
                StepMap(f, b, ref results);
                break;
            case FrameKind.Array:
                StepArray(f, b, ref results);
                break;
            case FrameKind.String:
                results.Add(StepString(f, b));
                break;
            case FrameKind.Number:
                StepNumber(f, b, ref results);
                break;
            default:
                StepLiteral(f, b, ref results);
                break;
        }
    }

    private MatchFrame? Whitespace(MatchFrame f, byte b, int limit)
    {
        if (!IsWs(b) || f.Ws >= limit)
        {
            return null;
        }

        var next = new MatchFrame(f) { Ws = f.Ws + 1 };
        return Seal(next);
    }

    private void StepDocument(MatchFrame f, byte b, ref Results results)
    {
        switch (f.Phase)
        {
            case DocPrefix:
                if (b == _prefix[f.Index])
                {
                    var next = new MatchFrame(f) { Index = f.Index + 1 };
                    next.Phase = next.Index == _prefix.Length ? DocStart : DocPrefix;
                    next.Index = next.Phase == DocStart ? 0 : next.Index;
                    results.Add(Seal(next));
                }

                break;
            case DocStart:
                if (Whitespace(f, b, 1) is { } ws)
                {
                    results.Add(ws);
                    break;
                }

                var after = new MatchFrame(f) { Phase = _suffix.Length > 0 ? DocSuffix : DocDone, Index = 0 };
                StartValue(f.Node, Seal(after), b, ref results);
                break;
            case DocSuffix:
                if (f.Index == 0 && Whitespace(f, b, _maxWs) is { } gap)
                {
                    results.Add(gap);
                }
                else if (b == _suffix[f.Index])
                {
                    var next = new MatchFrame(f) { Index = f.Index + 1 };
                    next.Phase = next.Index == _suffix.Length ? DocDone : DocSuffix;
                    results.Add(Seal(next));
                }

                break;
        }
    }

    private void StepObject(MatchFrame f, byte b, ref Results results)
    {
        GrammarProperty[] props = f.Node.Properties;
        int i = f.Index;
        switch (f.Phase)
        {
            case ObjBeforeKey:
                if (Whitespace(f, b, _maxWs) is { } ws)
                {
                    results.Add(ws);
                }
                else if (props.Length == 0)
                {
                    if (b == '}')
                    {
                        results.Add(f.Parent);
                    }
                }
                else if (b == '"')
                {
                    results.Add(Seal(new MatchFrame(f) { Phase = ObjKey, Pos = 1 }));
                }

                break;
            case ObjKey:
                if (b == props[i].KeyBytes[f.Pos])
                {
                    var next = new MatchFrame(f) { Pos = f.Pos + 1 };
                    if (next.Pos == props[i].KeyBytes.Length)
                    {
                        next.Phase = ObjAfterKey;
                    }

                    results.Add(Seal(next));
                }

                break;
            case ObjAfterKey:
                if (Whitespace(f, b, _maxWs) is { } ws2)
                {
                    results.Add(ws2);
                }
                else if (b == ':')
                {
                    results.Add(Seal(new MatchFrame(f) { Phase = ObjAfterColon }));
                }

                break;
            case ObjAfterColon:
                if (Whitespace(f, b, _maxWs) is { } ws3)
                {
                    results.Add(ws3);
                }
                else
                {
                    StartValue(props[i].Value, Seal(new MatchFrame(f) { Phase = ObjAfterValue }), b, ref results);
                }

                break;
            default: // ObjAfterValue
                if (Whitespace(f, b, _maxWs) is { } ws4)
                {
                    results.Add(ws4);
                }
                else if (i < props.Length - 1 && b == ',')
                {
                    results.Add(Seal(new MatchFrame(f) { Phase = ObjBeforeKey, Index = i + 1, Pos = 0 }));
                }
                else if (i == props.Length - 1 && b == '}')
                {
                    results.Add(f.Parent);
                }

                break;
        }
    }

    private void StepMap(MatchFrame f, byte b, ref Results results)
    {
        if (Whitespace(f, b, _maxWs) is { } ws)
        {
            results.Add(ws);
            return;
        }

        switch (f.Phase)
        {
            case MapOpen or MapAfterComma:
                if (b == '}' && f.Phase == MapOpen)
                {
                    results.Add(f.Parent);
                }
                else if (b == '"' && f.Node.Items!.MinBytes != int.MaxValue)
                {
                    StartValue(f.Node.Keys!, Seal(new MatchFrame(f) { Phase = MapAfterKey }), b, ref results);
                }

                break;
            case MapAfterKey:
                if (b == ':')
                {
                    results.Add(Seal(new MatchFrame(f) { Phase = MapAfterColon }));
                }

                break;
            case MapAfterColon:
                StartValue(f.Node.Items!, Seal(new MatchFrame(f) { Phase = MapAfterValue }), b, ref results);
                break;
            default: // MapAfterValue
                if (b == ',')
                {
                    results.Add(Seal(new MatchFrame(f) { Phase = MapAfterComma }));
                }
                else if (b == '}')
                {
                    results.Add(f.Parent);
                }

                break;
        }
    }

    private void StepArray(MatchFrame f, byte b, ref Results results)
    {
        if (Whitespace(f, b, _maxWs) is { } ws)
        {
            results.Add(ws);
            return;
        }

        GrammarNode node = f.Node;
        switch (f.Phase)
        {
            case ArrOpen:
                if (b == ']' && node.MinItems == 0)
                {
                    results.Add(f.Parent);
                }
                else if (node.MaxItems > 0)
                {
                    StartValue(node.Items!, Seal(new MatchFrame(f) { Phase = ArrAfterValue, Index = 1 }), b, ref results);
                }

                break;
            case ArrAfterValue:
                if (b == ',' && f.Index < node.MaxItems)
                {
                    results.Add(Seal(new MatchFrame(f) { Phase = ArrAfterComma }));
                }
                else if (b == ']' && f.Index >= node.MinItems)
                {
                    results.Add(f.Parent);
                }

                break;
            default: // ArrAfterComma
                StartValue(node.Items!, Seal(new MatchFrame(f) { Phase = ArrAfterValue, Index = f.Index + 1 }), b, ref results);
                break;
        }
    }

    private MatchFrame? StepString(MatchFrame f, byte b)
    {
        GrammarNode node = f.Node;
        switch (f.Phase)
        {
            case StrContent:
                if (b == '"')
                {
                    return f.Cp >= node.MinLength && (node.Regex is null || node.Regex.IsAccepting(f.Regex)) ? f.Parent : null;
                }

                if (node.Regex is { } regex)
                {
                    UInt128 next = regex.Step(f.Regex, b);
                    if (next == UInt128.Zero)
                    {
                        return null;
                    }

                    int distance = regex.DistanceToAccept(next);
                    if (distance == int.MaxValue || (long)f.U16 + 1 + distance > node.MaxLength)
                    {
                        return null;
                    }

                    return Seal(new MatchFrame(f) { Regex = next, Cp = f.Cp + 1, U16 = f.U16 + 1 });
                }

                if (b == '\\')
                {
                    return f.Cp >= node.MinLength && f.U16 < node.MaxLength ? Seal(new MatchFrame(f) { Phase = StrEscape }) : null;
                }

                if (b < 0x20)
                {
                    return null;
                }

                if (b < 0x80)
                {
                    return f.U16 < node.MaxLength ? Seal(new MatchFrame(f) { Cp = f.Cp + 1, U16 = f.U16 + 1 }) : null;
                }

                if (f.Cp < node.MinLength)
                {
                    return null; // until the minimum length, plain ASCII only (so that every length measure agrees)
                }

                (int cont, byte lo, byte hi, int units) = b switch
                {
                    >= 0xC2 and <= 0xDF => (1, (byte)0x80, (byte)0xBF, 1),
                    0xE0 => (2, (byte)0xA0, (byte)0xBF, 1),
                    0xED => (2, (byte)0x80, (byte)0x9F, 1),
                    >= 0xE1 and <= 0xEF => (2, (byte)0x80, (byte)0xBF, 1),
                    0xF0 => (3, (byte)0x90, (byte)0xBF, 2),
                    >= 0xF1 and <= 0xF3 => (3, (byte)0x80, (byte)0xBF, 2),
                    0xF4 => (3, (byte)0x80, (byte)0x8F, 2),
                    _ => (0, (byte)0, (byte)0, 0),
                };
                if (cont == 0 || f.U16 + units > node.MaxLength)
                {
                    return null;
                }

                return Seal(new MatchFrame(f) { Phase = StrUtf8, Index = cont, Lo = lo, Hi = hi, Cp = f.Cp + 1, U16 = f.U16 + units });
            case StrEscape:
                return b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t'
                    ? Seal(new MatchFrame(f) { Phase = StrContent, Cp = f.Cp + 1, U16 = f.U16 + 1 })
                    : null;
            default: // StrUtf8
                if (b < f.Lo || b > f.Hi)
                {
                    return null;
                }

                return Seal(new MatchFrame(f) { Index = f.Index - 1, Phase = f.Index == 1 ? StrContent : StrUtf8, Lo = 0x80, Hi = 0xBF });
        }
    }

    private void StepNumber(MatchFrame f, byte b, ref Results results)
    {
        NumberSpec spec = f.Node.Number!;
        bool digit = b is >= (byte)'0' and <= (byte)'9';
        switch (f.Phase)
        {
            case NumNeg:
                if (digit)
                {
                    results.Add(FirstDigit(f, b));
                }

                return;
            case NumZero or NumInt:
                if (digit && f.Phase == NumInt && f.IntDigits < spec.MaxIntDigits)
                {
                    results.Add(Feasible(new MatchFrame(f) { IntDigits = f.IntDigits + 1, Magnitude = (f.Magnitude * 10) + (b - '0') }));
                    return;
                }

                if (b == '.' && spec.MaxFracDigits > 0)
                {
                    results.Add(Feasible(new MatchFrame(f) { Phase = NumDot, FracDigits = 0 }));
                    return;
                }

                break;
            case NumDot:
                if (digit)
                {
                    results.Add(Feasible(new MatchFrame(f) { Phase = NumFrac, FracDigits = 1, Magnitude = f.Magnitude + ((b - '0') / 10m) }));
                }

                return;
            default: // NumFrac
                if (digit && f.FracDigits < spec.MaxFracDigits)
                {
                    results.Add(Feasible(new MatchFrame(f) { FracDigits = f.FracDigits + 1, Magnitude = f.Magnitude + ((b - '0') * NumberSpec.Pow10(-(f.FracDigits + 1))) }));
                    return;
                }

                break;
        }

        // The number ends here: the byte belongs to the enclosing value.
        if (IsEndable(f))
        {
            Step(f.Parent!, b, ref results);
        }
    }

    private MatchFrame? FirstDigit(MatchFrame f, byte b)
    {
        var next = new MatchFrame(f) { IntDigits = 1, Magnitude = b - '0' };
        next.Phase = b == '0' ? NumZero : NumInt;
        next.ZeroLead = b == '0';
        return Feasible(next);
    }

    private MatchFrame? Feasible(MatchFrame f)
    {
        NumberSpec spec = f.Node.Number!;
        bool ok = spec.Min is null && spec.Max is null
            ? !(f.Negative && f.ZeroLead && spec.MaxFracDigits == 0)
            : spec.IsFeasible(f.Negative, f.Magnitude, f.IntDigits, f.ZeroLead, f.FracDigits);
        return ok ? Seal(f) : null;
    }

    private void StepLiteral(MatchFrame f, byte b, ref Results results)
    {
        LiteralTrie trie = f.Node.Literals!;
        int child = trie.Child(f.Index, b);
        if (child >= 0)
        {
            results.Add(EnterLiteral(f, child));
        }
        else if (trie.IsTerminal(f.Index))
        {
            Step(f.Parent!, b, ref results);
        }
    }

    private MatchFrame EnterLiteral(MatchFrame f, int node)
    {
        LiteralTrie trie = f.Node.Literals!;
        if (trie.IsTerminal(node) && !trie.HasChildren(node))
        {
            return f.Parent!; // complete, and nothing could extend it
        }

        return Seal(new MatchFrame(f) { Index = node });
    }

    /// <summary>Starts a value of <paramref name="node"/> with its first byte; <paramref name="after"/> is the parent in its after-value state.</summary>
    private void StartValue(GrammarNode node, MatchFrame after, byte b, ref Results results)
    {
        if (node.MinBytes == int.MaxValue)
        {
            return;
        }

        switch (node.Kind)
        {
            case GrammarNodeKind.AnyOf:
                foreach (GrammarNode alt in node.Alternatives)
                {
                    StartValue(alt, after, b, ref results);
                }

                break;
            case GrammarNodeKind.Literals:
                {
                    int child = node.Literals!.Child(0, b);
                    if (child >= 0)
                    {
                        results.Add(EnterLiteral(new MatchFrame(FrameKind.Literal, node, after), child));
                    }

                    break;
                }

            case GrammarNodeKind.Number:
                if (b == '-')
                {
                    results.Add(Feasible(new MatchFrame(FrameKind.Number, node, after) { Phase = NumNeg, Negative = true }));
                }
                else if (b is >= (byte)'0' and <= (byte)'9')
                {
                    results.Add(FirstDigit(new MatchFrame(FrameKind.Number, node, after), b));
                }

                break;
            case GrammarNodeKind.String:
                if (b == '"')
                {
                    results.Add(Seal(new MatchFrame(FrameKind.String, node, after) { Phase = StrContent, Regex = ByteRegex.Start }));
                }

                break;
            case GrammarNodeKind.Array:
                if (b == '[' && (!node.DepthLimited || after.Depth < _maxFreeDepth))
                {
                    results.Add(Seal(new MatchFrame(FrameKind.Array, node, after) { Phase = ArrOpen }));
                }

                break;
            case GrammarNodeKind.Map:
                if (b == '{' && (!node.DepthLimited || after.Depth < _maxFreeDepth))
                {
                    results.Add(Seal(new MatchFrame(FrameKind.Map, node, after) { Phase = MapOpen }));
                }

                break;
            default: // Object
                if (b == '{')
                {
                    results.Add(Seal(new MatchFrame(FrameKind.Object, node, after) { Phase = ObjBeforeKey }));
                }

                break;
        }
    }

    /// <summary>Computes the frame's closing cost (its own plus the frames below) and returns it.</summary>
    private MatchFrame Seal(MatchFrame f)
    {
        int below = f.Parent?.Close ?? 0;
        f.Close = JsonSchemaCompiler.Add(OwnClose(f), below);
        return f;
    }

    private int OwnClose(MatchFrame f)
    {
        GrammarNode node = f.Node;
        switch (f.Kind)
        {
            case FrameKind.Document:
                return f.Phase switch
                {
                    DocPrefix => JsonSchemaCompiler.Add(_prefix.Length - f.Index, node.MinBytes, _suffix.Length),
                    DocStart => JsonSchemaCompiler.Add(node.MinBytes, _suffix.Length),
                    DocSuffix => _suffix.Length - f.Index,
                    _ => 0,
                };
            case FrameKind.Object:
                {
                    int i = f.Index;
                    int n = node.Properties.Length;
                    if (f.Phase == ObjBeforeKey)
                    {
                        return node.Tail[i];
                    }

                    int after = (i < n - 1 ? 1 : 0) + node.Tail[i + 1];
                    int value = node.Properties[i].Value.MinBytes;
                    return f.Phase switch
                    {
                        ObjKey => JsonSchemaCompiler.Add(node.Properties[i].KeyBytes.Length - f.Pos + 1, value, after),
                        ObjAfterKey => JsonSchemaCompiler.Add(1, value, after),
                        ObjAfterColon => JsonSchemaCompiler.Add(value, after),
                        _ => after,
                    };
                }

            case FrameKind.Map:
                {
                    int value = node.Items!.MinBytes;
                    return f.Phase switch
                    {
                        MapOpen or MapAfterValue => 1,
                        MapAfterKey => JsonSchemaCompiler.Add(2, value),
                        MapAfterColon => JsonSchemaCompiler.Add(1, value),
                        _ => JsonSchemaCompiler.Add(node.Keys!.MinBytes + 2, value),
                    };
                }

            case FrameKind.Array:
                {
                    int item = node.Items!.MinBytes;
                    int more = f.Phase switch
                    {
                        ArrOpen => node.MinItems,
                        ArrAfterValue => Math.Max(0, node.MinItems - f.Index),
                        _ => Math.Max(1, node.MinItems - f.Index),
                    };
                    if (more == 0)
                    {
                        return 1;
                    }

                    int separators = f.Phase == ArrAfterValue ? more : more - 1;
                    return item == int.MaxValue ? int.MaxValue : (int)Math.Min(int.MaxValue - 1, ((long)more * item) + separators + 1);
                }

            case FrameKind.String:
                {
                    int chars = Math.Max(0, node.MinLength - f.Cp);
                    return f.Phase switch
                    {
                        StrContent => 1 + (node.Regex is null ? chars : Math.Max(chars, node.Regex.DistanceToAccept(f.Regex))),
                        StrEscape => 2 + Math.Max(0, chars - 1),
                        _ => f.Index + 1 + chars,
                    };
                }

            case FrameKind.Number:
                return node.Number!.BytesToEnd(f.Negative, f.Magnitude, f.IntDigits, f.ZeroLead, f.FracDigits);
            default:
                return node.Literals!.MinRemaining(f.Index);
        }
    }

    /// <summary>Collects the stacks one step produces (usually one; forks only at anyOf).</summary>
    private struct Results
    {
        private MatchFrame? _first;
        private List<MatchFrame>? _rest;

        public void Add(MatchFrame? frame)
        {
            if (frame is null)
            {
                return;
            }

            if (_first is null)
            {
                _first = frame;
            }
            else if ((_rest?.Count ?? 0) + 1 < MaxStacks)
            {
                (_rest ??= []).Add(frame);
            }
        }

        public readonly MatcherState ToState()
        {
            if (_first is null)
            {
                return default;
            }

            return _rest is null ? new MatcherState(_first) : new MatcherState([_first, .. _rest]);
        }
    }
}
