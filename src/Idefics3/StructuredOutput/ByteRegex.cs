namespace Idefics3.StructuredOutput;

/// <summary>
/// A small regular expression compiled to a position automaton (Glushkov construction, no epsilon moves) over the
/// printable ASCII bytes a JSON string may hold without escapes. The automaton state is a bit set of at most 128
/// positions (a <see cref="UInt128"/>), so a step is a few OR and AND operations. Used for the string formats
/// (date, time, uuid, ...) and for the safe subset of <c>pattern</c>: literals, escapes, classes, groups,
/// alternation and the quantifiers <c>? * + {n} {n,} {n,m}</c>; <c>^</c> and <c>$</c> only at the ends.
/// </summary>
internal sealed class ByteRegex
{
    /// <summary>The largest number of positions (character occurrences after expanding counted repetition).</summary>
    public const int MaxPositions = 127;

    private readonly UInt128[] _follow;   // per state (0 = start, 1.. = positions): the positions that may come next
    private readonly UInt128[] _byteMask; // per byte: the positions whose class holds it
    private readonly UInt128 _accepting;
    private readonly int[] _distance;     // per state: the fewest bytes to an accepting state (int.MaxValue: none)

    private ByteRegex(UInt128[] follow, UInt128[] byteMask, UInt128 accepting)
    {
        _follow = follow;
        _byteMask = byteMask;
        _accepting = accepting;
        _distance = ComputeDistances(follow, byteMask, accepting);
    }

    /// <summary>Gets the start state.</summary>
    public static UInt128 Start => UInt128.One;

    /// <summary>Gets the fewest bytes from the start to a match (int.MaxValue when nothing matches).</summary>
    public int MinLength => _distance[0];

    /// <summary>Compiles a pattern; throws <see cref="FormatException"/> with the reason when it is outside the subset.</summary>
    /// <param name="pattern">The pattern (ECMA-262 syntax, unanchored unless it starts with ^ / ends with $).</param>
    public static ByteRegex Compile(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var parser = new Parser(pattern);
        Node root = parser.ParseWhole(out bool anchoredStart, out bool anchoredEnd);
        var any = new Sym(AllowedClass());
        var parts = new List<Node>();
        if (!anchoredStart)
        {
            parts.Add(new Star(any));
        }

        parts.Add(root);
        if (!anchoredEnd)
        {
            parts.Add(new Star(any));
        }

        var builder = new Builder();
        var (nullable, first, last) = builder.Visit(new Cat(parts));
        builder.Follow[0] = first;
        UInt128 accepting = last | (nullable ? UInt128.One : UInt128.Zero);
        var byteMask = new UInt128[256];
        for (int p = 1; p < builder.Count; p++)
        {
            ulong[] cls = builder.Classes[p];
            for (int b = 0; b < 256; b++)
            {
                if ((cls[b >> 6] & (1UL << (b & 63))) != 0)
                {
                    byteMask[b] |= UInt128.One << p;
                }
            }
        }

        return new ByteRegex(builder.Follow[..builder.Count], byteMask, accepting);
    }

    /// <summary>Advances a state by one byte; zero when the byte is not allowed.</summary>
    public UInt128 Step(UInt128 state, byte value)
    {
        UInt128 next = UInt128.Zero;
        UInt128 rest = state;
        while (rest != UInt128.Zero)
        {
            int s = (int)UInt128.TrailingZeroCount(rest);
            rest &= rest - UInt128.One;
            next |= _follow[s];
        }

        return next & _byteMask[value];
    }

    /// <summary>True when the state matches the whole pattern.</summary>
    public bool IsAccepting(UInt128 state) => (state & _accepting) != UInt128.Zero;

    /// <summary>The fewest further bytes that reach a match from the state (int.MaxValue when none).</summary>
    public int DistanceToAccept(UInt128 state)
    {
        int best = int.MaxValue;
        UInt128 rest = state;
        while (rest != UInt128.Zero)
        {
            int s = (int)UInt128.TrailingZeroCount(rest);
            rest &= rest - UInt128.One;
            best = Math.Min(best, _distance[s]);
        }

        return best;
    }

    private static int[] ComputeDistances(UInt128[] follow, UInt128[] byteMask, UInt128 accepting)
    {
        UInt128 live = UInt128.Zero; // positions with a non-empty class
        foreach (UInt128 m in byteMask)
        {
            live |= m;
        }

        int n = follow.Length;
        var dist = new int[n];
        for (int s = 0; s < n; s++)
        {
            dist[s] = (accepting & (UInt128.One << s)) != UInt128.Zero ? 0 : int.MaxValue;
        }

        for (bool changed = true; changed;)
        {
            changed = false;
            for (int s = 0; s < n; s++)
            {
                UInt128 next = follow[s] & live;
                while (next != UInt128.Zero)
                {
                    int t = (int)UInt128.TrailingZeroCount(next);
                    next &= next - UInt128.One;
                    if (dist[t] != int.MaxValue && dist[t] + 1 < dist[s])
                    {
                        dist[s] = dist[t] + 1;
                        changed = true;
                    }
                }
            }
        }

        return dist;
    }

    /// <summary>The bytes a pattern may produce: printable ASCII except the quote and the backslash (no escapes).</summary>
    private static ulong[] AllowedClass()
    {
        var cls = new ulong[4];
        for (int b = 0x20; b <= 0x7E; b++)
        {
            if (b != '"' && b != '\\')
            {
                cls[b >> 6] |= 1UL << (b & 63);
            }
        }

        return cls;
    }

    private abstract class Node;

    private sealed class Sym(ulong[] cls) : Node
    {
        public ulong[] Class { get; } = cls;
    }

    private sealed class Cat(List<Node> items) : Node
    {
        public List<Node> Items { get; } = items;
    }

    private sealed class Alt(List<Node> items) : Node
    {
        public List<Node> Items { get; } = items;
    }

    private sealed class Star(Node inner) : Node
    {
        public Node Inner { get; } = inner;
    }

    private sealed class Opt(Node inner) : Node
    {
        public Node Inner { get; } = inner;
    }

    private sealed class Builder
    {
        public UInt128[] Follow { get; } = new UInt128[MaxPositions + 1];

        public ulong[][] Classes { get; } = new ulong[MaxPositions + 1][];

        public int Count { get; private set; } = 1;

        public (bool Nullable, UInt128 First, UInt128 Last) Visit(Node node)
        {
            switch (node)
            {
                case Sym sym:
                    if (Count > MaxPositions)
                    {
                        throw new FormatException($"the pattern is too long once repetitions are expanded (more than {MaxPositions} character positions)");
                    }

                    int p = Count++;
                    Classes[p] = sym.Class;
                    return (false, UInt128.One << p, UInt128.One << p);
                case Cat cat:
                    {
                        bool nullable = true;
                        UInt128 first = UInt128.Zero, last = UInt128.Zero;
                        foreach (Node item in cat.Items)
                        {
                            var (n, f, l) = Visit(item);
                            AddFollow(last, f);
                            if (nullable)
                            {
                                first |= f;
                            }

                            last = n ? last | l : l;
                            nullable &= n;
                        }

                        return (nullable, first, last);
                    }

                case Alt alt:
                    {
                        bool nullable = false;
                        UInt128 first = UInt128.Zero, last = UInt128.Zero;
                        foreach (Node item in alt.Items)
                        {
                            var (n, f, l) = Visit(item);
                            nullable |= n;
                            first |= f;
                            last |= l;
                        }

                        return (nullable, first, last);
                    }

                case Star star:
                    {
                        var (_, f, l) = Visit(star.Inner);
                        AddFollow(l, f);
                        return (true, f, l);
                    }

                case Opt opt:
                    {
                        var (_, f, l) = Visit(opt.Inner);
                        return (true, f, l);
                    }

                default:
                    throw new InvalidOperationException("unknown regex node");
            }
        }

        private void AddFollow(UInt128 from, UInt128 to)
        {
            UInt128 rest = from;
            while (rest != UInt128.Zero)
            {
                int s = (int)UInt128.TrailingZeroCount(rest);
                rest &= rest - UInt128.One;
                Follow[s] |= to;
            }
        }
    }

    private sealed class Parser(string text)
    {
        private int _pos;

        public Node ParseWhole(out bool anchoredStart, out bool anchoredEnd)
        {
            anchoredStart = text.StartsWith('^');
            if (anchoredStart)
            {
                _pos = 1;
            }

            Node node = ParseAlt();
            anchoredEnd = false;
            if (_pos < text.Length && text[_pos] == '$' && _pos == text.Length - 1)
            {
                anchoredEnd = true;
                _pos++;
            }

            if (_pos != text.Length)
            {
                throw new FormatException($"unsupported syntax at offset {_pos} ('{text[_pos]}')");
            }

            return node;
        }

        private Node ParseAlt()
        {
            var items = new List<Node> { ParseCat() };
            while (_pos < text.Length && text[_pos] == '|')
            {
                _pos++;
                items.Add(ParseCat());
            }

            return items.Count == 1 ? items[0] : new Alt(items);
        }

        private Cat ParseCat()
        {
            var items = new List<Node>();
            while (_pos < text.Length && text[_pos] != '|' && text[_pos] != ')' && !(text[_pos] == '$' && _pos == text.Length - 1))
            {
                items.Add(ParseRepeat());
            }

            return new Cat(items);
        }

        private Node ParseRepeat()
        {
            Node atom = ParseAtom();
            while (_pos < text.Length)
            {
                char c = text[_pos];
                if (c == '*')
                {
                    atom = new Star(atom);
                }
                else if (c == '+')
                {
                    atom = new Cat([atom, new Star(atom)]);
                }
                else if (c == '?')
                {
                    atom = new Opt(atom);
                }
                else if (c == '{' && TryParseCount(out int min, out int? max))
                {
                    atom = Repeat(atom, min, max);
                    continue;
                }
                else
                {
                    break;
                }

                _pos++;
                if (_pos < text.Length && text[_pos] == '?')
                {
                    _pos++; // a lazy quantifier matches the same strings
                }
            }

            return atom;
        }

        private static Cat Repeat(Node atom, int min, int? max)
        {
            if (min > MaxPositions || max > MaxPositions)
            {
                throw new FormatException("a repetition count is too large");
            }

            var items = new List<Node>();
            for (int i = 0; i < min; i++)
            {
                items.Add(atom);
            }

            if (max is null)
            {
                items.Add(new Star(atom));
            }
            else
            {
                for (int i = min; i < max; i++)
                {
                    items.Add(new Opt(atom));
                }
            }

            return new Cat(items);
        }

        private bool TryParseCount(out int min, out int? max)
        {
            int end = text.IndexOf('}', _pos);
            min = 0;
            max = null;
            if (end < 0)
            {
                return false;
            }

            string body = text[(_pos + 1)..end];
            string[] parts = body.Split(',');
            if (parts.Length > 2 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out min))
            {
                return false;
            }

            if (parts.Length == 1)
            {
                max = min;
            }
            else if (parts[1].Length > 0)
            {
                if (!int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int m) || m < min)
                {
                    return false;
                }

                max = m;
            }

            _pos = end + 1;
            if (_pos < text.Length && text[_pos] == '?')
            {
                _pos++;
            }

            return true;
        }

        private Node ParseAtom()
        {
            char c = text[_pos];
            switch (c)
            {
                case '(':
                    {
                        _pos++;
                        if (text.AsSpan(_pos).StartsWith("?:"))
                        {
                            _pos += 2;
                        }
                        else if (_pos < text.Length && text[_pos] == '?')
                        {
                            throw new FormatException("lookaround and named groups are not supported");
                        }

                        Node inner = ParseAlt();
                        if (_pos >= text.Length || text[_pos] != ')')
                        {
                            throw new FormatException("unbalanced parenthesis");
                        }

                        _pos++;
                        return inner;
                    }

                case '[':
                    return new Sym(ParseClass());
                case '.':
                    _pos++;
                    return new Sym(AllowedClass());
                case '\\':
                    _pos++;
                    return new Sym(ParseEscape());
                case '^' or '$':
                    throw new FormatException($"'{c}' is supported only at the start / end of the pattern");
                case '*' or '+' or '?' or '{' or ')':
                    throw new FormatException($"unexpected '{c}' at offset {_pos}");
                default:
                    if (c > 0x7E || c < 0x20)
                    {
                        throw new FormatException("only printable ASCII characters are supported");
                    }

                    _pos++;
                    return new Sym(Single(c));
            }
        }

        private ulong[] ParseClass()
        {
            _pos++; // '['
            bool negate = _pos < text.Length && text[_pos] == '^';
            if (negate)
            {
                _pos++;
            }

            var cls = new ulong[4];
            while (_pos < text.Length && text[_pos] != ']')
            {
                ulong[] item;
                char lo;
                if (text[_pos] == '\\')
                {
                    _pos++;
                    item = ParseEscape();
                    lo = SingleChar(item);
                }
                else
                {
                    lo = text[_pos++];
                    item = Single(lo);
                }

                if (lo != '\0' && _pos + 1 < text.Length && text[_pos] == '-' && text[_pos + 1] != ']')
                {
                    _pos++;
                    char hi = text[_pos] == '\\' ? SingleChar(EscapeAt()) : text[_pos++];
                    if (hi == '\0' || hi < lo || hi > 0x7E)
                    {
                        throw new FormatException("bad range in a character class");
                    }

                    item = new ulong[4];
                    for (int b = lo; b <= hi; b++)
                    {
                        item[b >> 6] |= 1UL << (b & 63);
                    }
                }

                for (int i = 0; i < 4; i++)
                {
                    cls[i] |= item[i];
                }
            }

            if (_pos >= text.Length)
            {
                throw new FormatException("unterminated character class");
            }

            _pos++; // ']'
            ulong[] allowed = AllowedClass();
            for (int i = 0; i < 4; i++)
            {
                cls[i] = negate ? allowed[i] & ~cls[i] : allowed[i] & cls[i];
            }

            return cls;
        }

        private ulong[] EscapeAt()
        {
            _pos++;
            return ParseEscape();
        }

        private ulong[] ParseEscape()
        {
            if (_pos >= text.Length)
            {
                throw new FormatException("the pattern ends with a backslash");
            }

            char e = text[_pos++];
            return e switch
            {
                'd' => Range('0', '9'),
                'D' => Negate(Range('0', '9')),
                'w' => Word(),
                'W' => Negate(Word()),
                's' => Single(' '),
                'S' => Negate(Single(' ')),
                'n' or 'r' or 't' or 'f' or 'v' => new ulong[4], // control characters are never produced unescaped
                _ when char.IsAsciiLetterOrDigit(e) => throw new FormatException($"the escape '\\{e}' is not supported"),
                _ when e is >= (char)0x20 and <= (char)0x7E => Single(e),
                _ => throw new FormatException("only printable ASCII characters are supported"),
            };
        }

        private static char SingleChar(ulong[] cls)
        {
            int count = 0;
            char found = '\0';
            for (int b = 0; b < 256; b++)
            {
                if ((cls[b >> 6] & (1UL << (b & 63))) != 0)
                {
                    count++;
                    found = (char)b;
                }
            }

            return count == 1 ? found : '\0';
        }

        private static ulong[] Single(char c)
        {
            var cls = new ulong[4];
            if (c is not '"' and not '\\')
            {
                cls[c >> 6] |= 1UL << (c & 63);
            }

            return cls;
        }

        private static ulong[] Range(char lo, char hi)
        {
            var cls = new ulong[4];
            for (int b = lo; b <= hi; b++)
            {
                cls[b >> 6] |= 1UL << (b & 63);
            }

            return cls;
        }

        private static ulong[] Word()
        {
            ulong[] cls = Range('a', 'z');
            ulong[] upper = Range('A', 'Z');
            ulong[] digits = Range('0', '9');
            for (int i = 0; i < 4; i++)
            {
                cls[i] |= upper[i] | digits[i];
            }

            cls['_' >> 6] |= 1UL << ('_' & 63);
            return cls;
        }

        private static ulong[] Negate(ulong[] cls)
        {
            ulong[] allowed = AllowedClass();
            for (int i = 0; i < 4; i++)
            {
                cls[i] = allowed[i] & ~cls[i];
            }

            return cls;
        }
    }
}
