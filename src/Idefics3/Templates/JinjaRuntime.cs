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

    public JinjaRuntime(string source, IReadOnlyDictionary<string, object?> globals)
    {
        _source = source;
        _scopes.Add(new Dictionary<string, object?>(globals, StringComparer.Ordinal));
    }

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

    private static string Repr(object? value) => value switch
    {
        string s => "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'",
        IDictionary<string, object?> d => "{" + string.Join(", ", d.Select(kv => Repr(kv.Key) + ": " + Repr(kv.Value))) + "}",
        IList l => "[" + string.Join(", ", l.Cast<object?>().Select(Repr)) + "]",
        _ => ToStr(value),
    };

    private TemplateException Error(int position, string message) => JinjaLexer.Error(_source, position, message);

    private void Execute(List<Node> nodes)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case TextNode t:
                    _output.Append(t.Text);
                    break;
                case OutputNode o:
                    _output.Append(ToStr(Eval(o.Value)));
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

    private void ExecuteFor(ForNode f)
    {
        object? iterable = Eval(f.Iterable);
        var items = Iterate(iterable, f.Iterable.Position).ToList();
        if (f.Filter is not null)
        {
            var filtered = new List<object?>();
            foreach (var item in items)
            {
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
                return ToStr(left) + ToStr(right);
            case "+":
                return (left, right) switch
                {
                    (string l, string r) => l + r,
                    (long l, long r) => l + r,
                    (IList l, IList r) => l.Cast<object?>().Concat(r.Cast<object?>()).ToList(),
                    _ when IsNumber(left) && IsNumber(right) => ToDouble(left) + ToDouble(right),
                    _ => throw Error(b.Position, $"unsupported operand types for +: {TypeName(left)} and {TypeName(right)}"),
                };
            case "-" or "*" or "/" or "//" or "%":
                return Arithmetic(b.Op, left, right, b.Position);
            default:
                throw Error(b.Position, $"unsupported operator '{b.Op}'");
        }
    }

    private object? Arithmetic(string op, object? left, object? right, int position)
    {
        if (op == "*" && left is string s && right is long n)
        {
            return string.Concat(Enumerable.Repeat(s, (int)Math.Max(0, n)));
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

        List<object?> items = target switch
        {
            string str => str.Select(c => (object?)c.ToString()).ToList(),
            IList l => l.Cast<object?>().ToList(),
            _ => throw Error(s.Position, $"cannot slice {TypeName(target)}"),
        };
        int n = items.Count;
        long Norm(long v, long lo, long hi) => Math.Clamp(v < 0 ? v + n : v, lo, hi);
        var result = new List<object?>();
        if (step > 0)
        {
            long from = start is null ? 0 : Norm(start.Value, 0, n);
            long to = stop is null ? n : Norm(stop.Value, 0, n);
            for (long i = from; i < to; i += step)
            {
                result.Add(items[(int)i]);
            }
        }
        else
        {
            long from = start is null ? n - 1 : Norm(start.Value, -1, n - 1);
            long to = stop is null ? -1 : Norm(stop.Value, -1, n - 1);
            for (long i = from; i > to; i += step)
            {
                result.Add(items[(int)i]);
            }
        }

        return target is string ? string.Concat(result.Cast<string>()) : result;
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

                        var list = new List<object?>();
                        for (long i = from; step > 0 ? i < to : i > to; i += step)
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
