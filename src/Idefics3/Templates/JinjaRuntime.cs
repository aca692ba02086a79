using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Idefics3.Templates;

/// <summary>The value of an undefined variable, attribute or item (Jinja's default <c>Undefined</c>).</summary>
internal sealed class Undefined
{
    public static readonly Undefined Instance = new();

    private Undefined()
    {
    }
}

/// <summary>The object returned by <c>namespace()</c>: attributes can be assigned with <c>set ns.x = ...</c>.</summary>
internal sealed class JinjaNamespace : Dictionary<string, object?>
{
    public JinjaNamespace()
        : base(StringComparer.Ordinal)
    {
    }
}

/// <summary>Evaluates a parsed template.</summary>
internal sealed class JinjaRuntime
{
    private readonly string _source;
    private readonly List<Dictionary<string, object?>> _scopes = [];
    private readonly StringBuilder _output = new();
    private readonly CancellationToken _cancellationToken;
    private int _evalDepth;
    private long _iterations;

    public JinjaRuntime(string source, IReadOnlyDictionary<string, object?> globals, CancellationToken cancellationToken = default)
    {
        _source = source;
        _cancellationToken = cancellationToken;
        _scopes.Add(new Dictionary<string, object?>(globals, StringComparer.Ordinal));
    }

    /// <summary>The deepest expression evaluation (long operator chains such as <c>a + b + c ...</c> nest without brackets).</summary>
    private const int MaxEvaluationDepth = 10 * JinjaLimits.MaxNestingDepth;

    public string Render(List<Node> nodes)
    {
        Execute(nodes);
        return _output.ToString();
    }

    public static bool Truthy(object? value) => value switch
    {
        null => false,
        Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        ICollection c => c.Count > 0,
        _ => true,
    };

    public static string ToStr(object? value) => value switch
    {
        null => "None",
        Undefined => string.Empty,
        string s => s,
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatDouble(d),
        _ => Repr(value),
    };

    private static string FormatDouble(double d)
    {
        if (double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 1e16)
        {
            return d.ToString("0.0", CultureInfo.InvariantCulture);
        }

        return d.ToString("R", CultureInfo.InvariantCulture);
    }

    private static string Repr(object? value)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, value, 0);
        return sb.ToString();
    }

    /// <summary>Python's <c>repr</c> of a value, bounded in depth and length (a list may hold one huge string many times).</summary>
    private static void AppendRepr(StringBuilder sb, object? value, int depth)
    {
        if (depth > JinjaLimits.MaxValueDepth)
        {
            throw new TemplateException($"value nested deeper than {JinjaLimits.MaxValueDepth} levels cannot be printed");
        }

        JinjaLimits.CheckStringLength(sb.Length + (value is string str ? (long)str.Length : 0), msg => new TemplateException(msg));
        switch (value)
        {
            case string s:
                sb.Append('\'').Append(s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)).Append('\'');
                break;
            case IDictionary<string, object?> d:
                {
                    sb.Append('{');
                    bool first = true;
                    foreach (var (k, v) in d)
                    {
                        sb.Append(first ? string.Empty : ", ");
                        first = false;
                        AppendRepr(sb, k, depth + 1);
                        sb.Append(": ");
                        AppendRepr(sb, v, depth + 1);
                    }

                    sb.Append('}');
                    break;
                }

            case IList l:
                {
                    sb.Append('[');
                    for (int i = 0; i < l.Count; i++)
                    {
                        sb.Append(i == 0 ? string.Empty : ", ");
                        AppendRepr(sb, l[i], depth + 1);
                    }

                    sb.Append(']');
                    break;
                }

            default:
                sb.Append(ToStr(value));
                break;
        }
    }

    private TemplateException Error(int position, string message) => JinjaLexer.Error(_source, position, message);

    private void Execute(List<Node> nodes)
    {
        foreach (var node in nodes)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            switch (node)
            {
                case TextNode t:
                    Emit(t.Text, t.Position);
                    break;
                case OutputNode o:
                    Emit(ToStr(Eval(o.Value)), o.Position);
                    break;
                case IfNode i:
                    {
                        bool done = false;
                        foreach (var (cond, body) in i.Branches)
                        {
                            if (Truthy(Eval(cond)))
                            {
                                Execute(body);
                                done = true;
                                break;
                            }
                        }

                        if (!done && i.Else is not null)
                        {
                            Execute(i.Else);
                        }

                        break;
                    }

                case ForNode f:
                    ExecuteFor(f);
                    break;
                case SetNode s:
                    {
                        object? value = Eval(s.Value);
                        if (s.Attribute is null)
                        {
                            _scopes[^1][s.Name] = value;
                        }
                        else if (Lookup(s.Name) is JinjaNamespace ns)
                        {
                            ns[s.Attribute] = value;
                        }
                        else
                        {
                            throw Error(s.Position, $"cannot assign attribute '{s.Attribute}' of '{s.Name}': only namespace() objects support attribute assignment");
                        }

                        break;
                    }

                case SetBlockNode sb:
                    {
                        int mark = _output.Length;
                        Execute(sb.Body);
                        string captured = _output.ToString(mark, _output.Length - mark);
                        _output.Length = mark;
                        _scopes[^1][sb.Name] = captured;
                        break;
                    }

                default:
                    throw Error(node.Position, "unsupported statement");
            }
        }
    }

    private void Emit(string text, int position)
    {
        JinjaLimits.CheckStringLength((long)_output.Length + text.Length, msg => Error(position, "rendered output too long: " + msg));
        _output.Append(text);
    }

    /// <summary>Counts loop iterations against <see cref="JinjaLimits.MaxLoopIterations"/> and honours cancellation.</summary>
    private void CountIterations(long count, int position)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        _iterations += count;
        if (_iterations > JinjaLimits.MaxLoopIterations)
        {
            throw Error(position, $"more than {JinjaLimits.MaxLoopIterations} loop iterations in one rendering");
        }
    }

    private void ExecuteFor(ForNode f)
    {
        object? iterable = Eval(f.Iterable);
        long count = iterable switch
        {
            string str => str.Length,
            ICollection c => c.Count,
            _ => 0,
        };

        // Refuse a loop that alone would exceed the budget before its items are materialized.
        if (_iterations + count > JinjaLimits.MaxLoopIterations)
        {
            throw Error(f.Position, $"more than {JinjaLimits.MaxLoopIterations} loop iterations in one rendering");
        }

        var items = Iterate(iterable, f.Iterable.Position).ToList();
        if (f.Filter is not null)
        {
            var filtered = new List<object?>();
            foreach (var item in items)
            {
                CountIterations(1, f.Position);
                _scopes.Add(new Dictionary<string, object?>(StringComparer.Ordinal));
                Bind(f, item);
                if (Truthy(Eval(f.Filter)))
                {
                    filtered.Add(item);
                }

                _scopes.RemoveAt(_scopes.Count - 1);
            }

            items = filtered;
        }

        if (items.Count == 0)
        {
            if (f.Else is not null)
            {
                Execute(f.Else);
            }

            return;
        }

        for (int i = 0; i < items.Count; i++)
        {
            CountIterations(1, f.Position);
            var scope = new Dictionary<string, object?>(StringComparer.Ordinal);
            _scopes.Add(scope);
            Bind(f, items[i]);
            scope["loop"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["index"] = (long)(i + 1),
                ["index0"] = (long)i,
                ["revindex"] = (long)(items.Count - i),
                ["revindex0"] = (long)(items.Count - i - 1),
                ["first"] = i == 0,
                ["last"] = i == items.Count - 1,
                ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : Undefined.Instance,
                ["nextitem"] = i < items.Count - 1 ? items[i + 1] : Undefined.Instance,
            };
            Execute(f.Body);
            _scopes.RemoveAt(_scopes.Count - 1);
        }
    }

    private void Bind(ForNode f, object? item)
    {
        if (f.Targets.Count == 1)
        {
            _scopes[^1][f.Targets[0]] = item;
            return;
        }

        var parts = Iterate(item, f.Position).ToList();
        if (parts.Count != f.Targets.Count)
        {
            throw Error(f.Position, $"cannot unpack {parts.Count} values into {f.Targets.Count} loop variables");
        }

        for (int k = 0; k < parts.Count; k++)
        {
            _scopes[^1][f.Targets[k]] = parts[k];
        }
    }

    private IEnumerable<object?> Iterate(object? value, int position) => value switch
    {
        null => throw Error(position, "'None' is not iterable"),
        Undefined => [],
        string s => s.Select(c => (object?)c.ToString()),
        IDictionary<string, object?> d => d.Keys.Cast<object?>().ToList(),
        IList l => l.Cast<object?>().ToList(),
        _ => throw Error(position, $"value of type {TypeName(value)} is not iterable"),
    };

    private object? Lookup(string name)
    {
        for (int i = _scopes.Count - 1; i >= 0; i--)
        {
            if (_scopes[i].TryGetValue(name, out var value))
            {
                return value;
            }
        }

        return Undefined.Instance;
    }

    private static string TypeName(object? value) => value switch
    {
        null => "None",
        Undefined => "undefined",
        string => "string",
        bool => "boolean",
        long => "integer",
        double => "float",
        IDictionary<string, object?> => "mapping",
        IList => "list",
        _ => value.GetType().Name,
    };

    private object? Eval(Expr expr)
    {
        if (++_evalDepth > MaxEvaluationDepth || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error(expr.Position, $"expression nested deeper than {MaxEvaluationDepth} levels");
        }

        try
        {
            return EvalCore(expr);
        }
        finally
        {
            _evalDepth--;
        }
    }

    private object? EvalCore(Expr expr)
    {
        switch (expr)
        {
            case LiteralExpr l:
                return l.Value;
            case NameExpr n:
                return Lookup(n.Name);
            case ListExpr l:
                return l.Items.Select(Eval).ToList();
            case DictExpr d:
                {
                    var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var (k, v) in d.Items)
                    {
                        dict[ToStr(Eval(k))] = Eval(v);
                    }

                    return dict;
                }

            case AttrExpr a:
                return GetItem(Eval(a.Target), a.Name, a.Position, isAttribute: true);
            case IndexExpr i:
                return GetItem(Eval(i.Target), Eval(i.Index), i.Position, isAttribute: false);
            case SliceExpr s:
                return Slice(Eval(s.Target), s);
            case CallExpr c:
                return Call(c);
            case FilterExpr f:
                return JinjaBuiltins.Filter(f.Name, Eval(f.Target), f.Args.Select(Eval).ToList(), f.Kwargs.ToDictionary(k => k.Name, k => Eval(k.Value)), msg => Error(f.Position, msg));
            case TestExpr t:
                {
                    bool r = JinjaBuiltins.Test(t.Name, Eval(t.Target), t.Args.Select(Eval).ToList(), msg => Error(t.Position, msg));
                    return t.Negated ? !r : r;
                }

            case UnaryExpr u:
                {
                    object? v = Eval(u.Operand);
                    return u.Op switch
                    {
                        "not" => !Truthy(v),
                        "-" => v switch
                        {
                            long l => (object)(-l),
                            double d => -d,
                            _ => throw Error(u.Position, $"bad operand for unary -: {TypeName(v)}"),
                        },
                        _ => v,
                    };
                }

            case ConditionalExpr c:
                return Truthy(Eval(c.Condition)) ? Eval(c.Then) : c.Else is null ? Undefined.Instance : Eval(c.Else);
            case BinaryExpr b:
                return EvalBinary(b);
            default:
                throw Error(expr.Position, "unsupported expression");
        }
    }

    private object? EvalBinary(BinaryExpr b)
    {
        if (b.Op == "and")
        {
            object? l = Eval(b.Left);
            return Truthy(l) ? Eval(b.Right) : l;
        }

        if (b.Op == "or")
        {
            object? l = Eval(b.Left);
            return Truthy(l) ? l : Eval(b.Right);
        }

        object? left = Eval(b.Left);
        object? right = Eval(b.Right);
        switch (b.Op)
        {
            case "==":
                return JinjaBuiltins.AreEqual(left, right);
            case "!=":
                return !JinjaBuiltins.AreEqual(left, right);
            case "<" or ">" or "<=" or ">=":
                {
                    int c = Compare(left, right, b.Position);
                    return b.Op switch
                    {
                        "<" => c < 0,
                        ">" => c > 0,
                        "<=" => c <= 0,
                        _ => c >= 0,
                    };
                }

            case "in":
                return right switch
                {
                    string s when left is string sub => s.Contains(sub, StringComparison.Ordinal),
                    IDictionary<string, object?> d => left is string key && d.ContainsKey(key),
                    IList l => l.Cast<object?>().Any(x => JinjaBuiltins.AreEqual(x, left)),
                    Undefined => throw Error(b.Position, "'in' on an undefined value"),
                    _ => throw Error(b.Position, $"argument of type {TypeName(right)} is not iterable"),
                };
            case "~":
                {
                    string l = ToStr(left);
                    string r = ToStr(right);
                    JinjaLimits.CheckStringLength((long)l.Length + r.Length, msg => Error(b.Position, msg));
                    return l + r;
                }

            case "+":
                return (left, right) switch
                {
                    (string l, string r) => ConcatStrings(l, r, b.Position),
                    (long l, long r) => l + r,
                    (IList l, IList r) => ConcatLists(l, r, b.Position),
                    _ when IsNumber(left) && IsNumber(right) => ToDouble(left) + ToDouble(right),
                    _ => throw Error(b.Position, $"unsupported operand types for +: {TypeName(left)} and {TypeName(right)}"),
                };
            case "-" or "*" or "/" or "//" or "%":
                return Arithmetic(b.Op, left, right, b.Position);
            default:
                throw Error(b.Position, $"unsupported operator '{b.Op}'");
        }
    }

    private string ConcatStrings(string left, string right, int position)
    {
        JinjaLimits.CheckStringLength((long)left.Length + right.Length, msg => Error(position, msg));
        return left + right;
    }

    private List<object?> ConcatLists(IList left, IList right, int position)
    {
        JinjaLimits.CheckListLength((long)left.Count + right.Count, msg => Error(position, msg));
        return left.Cast<object?>().Concat(right.Cast<object?>()).ToList();
    }

    private object? Arithmetic(string op, object? left, object? right, int position)
    {
        if (op == "*" && left is string s && right is long n)
        {
            long times = Math.Max(0, n);

            // Checked before anything is allocated: 'x' * 1000000000 fails at once.
            JinjaLimits.CheckStringLength(s.Length == 0 ? 0 : times > JinjaLimits.MaxStringLength ? times : s.Length * times, msg => Error(position, msg));
            return string.Concat(Enumerable.Repeat(s, (int)times));
        }

        if (!IsNumber(left) || !IsNumber(right))
        {
            throw Error(position, $"unsupported operand types for {op}: {TypeName(left)} and {TypeName(right)}");
        }

        if (left is long a && right is long c && op != "/")
        {
            if ((op == "//" || op == "%") && c == 0)
            {
                throw Error(position, "division by zero");
            }

            return op switch
            {
                "-" => a - c,
                "*" => a * c,
                "//" => (long)Math.Floor((double)a / c),
                _ => ((a % c) + c) % c,
            };
        }

        double x = ToDouble(left);
        double y = ToDouble(right);
        if (op is "/" or "//" or "%" && y == 0)
        {
            throw Error(position, "division by zero");
        }

        return op switch
        {
            "-" => x - y,
            "*" => x * y,
            "/" => x / y,
            "//" => Math.Floor(x / y),
            _ => x - (y * Math.Floor(x / y)),
        };
    }

    private static bool IsNumber(object? v) => v is long or double or bool;

    private static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => 0,
    };

    private int Compare(object? left, object? right, int position)
    {
        if (IsNumber(left) && IsNumber(right))
        {
            return ToDouble(left).CompareTo(ToDouble(right));
        }

        if (left is string a && right is string b)
        {
            return string.CompareOrdinal(a, b);
        }

        throw Error(position, $"cannot compare {TypeName(left)} with {TypeName(right)}");
    }

    private object? GetItem(object? target, object? key, int position, bool isAttribute)
    {
        switch (target)
        {
            case Undefined:
                throw Error(position, $"cannot read '{ToStr(key)}' of an undefined value");
            case null:
                throw Error(position, $"cannot read '{ToStr(key)}' of None");
            case IDictionary<string, object?> d:
                return key is string k && d.TryGetValue(k, out var v) ? v : Undefined.Instance;
            case IList l when key is long index:
                {
                    long i = index < 0 ? l.Count + index : index;
                    return i >= 0 && i < l.Count ? l[(int)i] : Undefined.Instance;
                }

            case string s when key is long index:
                {
                    long i = index < 0 ? s.Length + index : index;
                    return i >= 0 && i < s.Length ? s[(int)i].ToString() : Undefined.Instance;
                }

            default:
                _ = isAttribute;
                return Undefined.Instance;
        }
    }

    private object? Slice(object? target, SliceExpr s)
    {
        long? Get(Expr? e) => e is null ? null : Eval(e) switch
        {
            long l => l,
            null => null,
            var other => throw Error(s.Position, $"slice index must be an integer, not {TypeName(other)}"),
        };

        long? start = Get(s.Start);
        long? stop = Get(s.Stop);
        long step = Get(s.Step) ?? 1;
        if (step == 0)
        {
            throw Error(s.Position, "slice step cannot be zero");
        }

        int n = target switch
        {
            string str => str.Length,
            IList l => l.Count,
            _ => throw Error(s.Position, $"cannot slice {TypeName(target)}"),
        };
        long Norm(long v, long lo, long hi) => Math.Clamp(v < 0 ? v + n : v, lo, hi);
        step = Math.Clamp(step, -(long)n - 1, (long)n + 1); // the same slice, and 'i += step' cannot overflow
        long from;
        long to;
        if (step > 0)
        {
            from = start is null ? 0 : Norm(start.Value, 0, n);
            to = stop is null ? n : Norm(stop.Value, 0, n);
        }
        else
        {
            from = start is null ? n - 1 : Norm(start.Value, -1, n - 1);
            to = stop is null ? -1 : Norm(stop.Value, -1, n - 1);
        }

        // A string slices into a string directly (never a list of one-character strings).
        var text = target as string;
        var chars = text is null ? null : new StringBuilder();
        var result = text is null ? new List<object?>() : null;
        for (long i = from; step > 0 ? i < to : i > to; i += step)
        {
            if (chars is not null)
            {
                chars.Append(text![(int)i]);
            }
            else
            {
                result!.Add(((IList)target!)[(int)i]);
            }
        }

        return chars is not null ? chars.ToString() : result;
    }

    private object? Call(CallExpr c)
    {
        var args = c.Args.Select(Eval).ToList();
        var kwargs = c.Kwargs.ToDictionary(k => k.Name, k => Eval(k.Value));
        if (c.Callee is AttrExpr method)
        {
            object? target = Eval(method.Target);
            return JinjaBuiltins.CallMethod(target, method.Name, args, msg => Error(c.Position, msg));
        }

        if (c.Callee is NameExpr name)
        {
            switch (name.Name)
            {
                case "raise_exception":
                    throw Error(c.Position, "template raised an exception: " + (args.Count > 0 ? ToStr(args[0]) : string.Empty));
                case "range":
                    {
                        var ints = args.Select(a => a is long l ? l : throw Error(c.Position, "range() needs integers")).ToList();
                        (long from, long to, long step) = ints.Count switch
                        {
                            1 => (0L, ints[0], 1L),
                            2 => (ints[0], ints[1], 1L),
                            3 => (ints[0], ints[1], ints[2]),
                            _ => throw Error(c.Position, "range() takes 1 to 3 arguments"),
                        };
                        if (step == 0)
                        {
                            throw Error(c.Position, "range() step cannot be zero");
                        }

                        // Hugging Face's sandbox caps range() at 100,000 items; counted before anything is allocated.
                        Int128 span = step > 0 ? (Int128)to - from : (Int128)from - to;
                        Int128 length = span <= 0 ? 0 : ((span - 1) / Int128.Abs(step)) + 1;
                        if (length > JinjaLimits.MaxRange)
                        {
                            throw Error(c.Position, $"range() of {length} items exceeds the limit of {JinjaLimits.MaxRange}");
                        }

                        var list = new List<object?>((int)length);
                        int produced = 0;
                        for (long i = from; produced < (int)length; i += step, produced++)
                        {
                            list.Add(i);
                        }

                        return list;
                    }

                case "namespace":
                    {
                        var ns = new JinjaNamespace();
                        foreach (var (k, v) in kwargs)
                        {
                            ns[k] = v;
                        }

                        return ns;
                    }

                default:
                    if (Lookup(name.Name) is Func<List<object?>, object?> fn)
                    {
                        return fn(args);
                    }

                    throw Error(c.Position, $"unsupported construct: call of '{name.Name}()'");
            }
        }

        throw Error(c.Position, "unsupported construct: call of a computed value");
    }

    /// <summary>Converts a JSON element into template values.</summary>
    public static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out long l) ? (object)l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => FromJson(p.Value), StringComparer.Ordinal),
        _ => null,
    };
}
