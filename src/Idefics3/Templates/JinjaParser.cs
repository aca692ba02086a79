using System.Globalization;

namespace Idefics3.Templates;

/// <summary>Recursive-descent parser for the supported Jinja subset.</summary>
internal sealed class JinjaParser
{
    private static readonly HashSet<string> _unsupportedTags = ["macro", "call", "filter", "include", "import", "from", "extends", "block", "raw", "with", "generation", "break", "continue", "do"];

    private readonly List<Tok> _tokens;
    private readonly string _source;
    private int _pos;
    private int _depth;

    public JinjaParser(List<Tok> tokens, string source)
    {
        _tokens = tokens;
        _source = source;
    }

    private Tok Current => _tokens[_pos];

    /// <summary>Enters one level of nesting; throws past <see cref="JinjaLimits.MaxNestingDepth"/> or when the stack runs low.</summary>
    private void Enter(int position)
    {
        if (++_depth > JinjaLimits.MaxNestingDepth || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error(position, $"template nested deeper than {JinjaLimits.MaxNestingDepth} levels");
        }
    }

    public List<Node> ParseTemplate()
    {
        var body = ParseBody(out string? end);
        if (end is not null)
        {
            throw Error(Current.Position, $"unexpected '{{% {end} %}}' without a matching opening tag");
        }

        return body;
    }

    private TemplateException Error(int position, string message) => JinjaLexer.Error(_source, position, message);

    private List<Node> ParseBody(out string? endTag, params string[] terminators)
    {
        var nodes = new List<Node>();
        while (true)
        {
            var tok = Current;
            switch (tok.Kind)
            {
                case TokKind.End:
                    endTag = null;
                    if (terminators.Length > 0)
                    {
                        throw Error(tok.Position, $"unexpected end of template: expected '{{% {terminators[^1]} %}}'");
                    }

                    return nodes;
                case TokKind.Text:
                    nodes.Add(new TextNode(tok.Value, tok.Position));
                    _pos++;
                    break;
                case TokKind.OutputStart:
                    _pos++;
                    var expr = ParseExpression();
                    Expect(TokKind.OutputEnd, "}}");
                    nodes.Add(new OutputNode(expr, tok.Position));
                    break;
                case TokKind.BlockStart:
                    {
                        var nameTok = _tokens[_pos + 1];
                        if (nameTok.Kind != TokKind.Name)
                        {
                            throw Error(nameTok.Position, "expected a statement name after '{%'");
                        }

                        if (terminators.Contains(nameTok.Value))
                        {
                            _pos += 2;
                            endTag = nameTok.Value;
                            return nodes;
                        }

                        _pos += 2;
                        nodes.Add(ParseStatement(nameTok));
                        break;
                    }

                default:
                    throw Error(tok.Position, $"unexpected '{tok.Value}'");
            }
        }
    }

    private Node ParseStatement(Tok nameTok)
    {
        Enter(nameTok.Position);
        try
        {
            return ParseStatementCore(nameTok);
        }
        finally
        {
            _depth--;
        }
    }

    private Node ParseStatementCore(Tok nameTok)
    {
        switch (nameTok.Value)
        {
            case "if":
                {
                    var branches = new List<(Expr, List<Node>)>();
                    var cond = ParseExpression();
                    Expect(TokKind.BlockEnd, "%}");
                    List<Node>? elseBody = null;
                    while (true)
                    {
                        var body = ParseBody(out string? end, "elif", "else", "endif");
                        branches.Add((cond, body));
                        if (end == "elif")
                        {
                            cond = ParseExpression();
                            Expect(TokKind.BlockEnd, "%}");
                            continue;
                        }

                        if (end == "else")
                        {
                            Expect(TokKind.BlockEnd, "%}");
                            elseBody = ParseBody(out _, "endif");
                        }

                        Expect(TokKind.BlockEnd, "%}");
                        return new IfNode(branches, elseBody, nameTok.Position);
                    }
                }

            case "for":
                {
                    var targets = new List<string> { ExpectName() };
                    while (IsOp(","))
                    {
                        _pos++;
                        targets.Add(ExpectName());
                    }

                    if (Current.Kind != TokKind.Name || Current.Value != "in")
                    {
                        throw Error(Current.Position, "expected 'in' in for loop");
                    }

                    _pos++;
                    var iterable = ParseOr(allowConditional: false);
                    Expr? filter = null;
                    if (Current.Kind == TokKind.Name && Current.Value == "if")
                    {
                        _pos++;
                        filter = ParseOr(allowConditional: false);
                    }

                    if (Current.Kind == TokKind.Name && Current.Value == "recursive")
                    {
                        throw Error(Current.Position, "unsupported construct: recursive for loops");
                    }

                    Expect(TokKind.BlockEnd, "%}");
                    var body = ParseBody(out string? end, "else", "endfor");
                    List<Node>? elseBody = null;
                    if (end == "else")
                    {
                        Expect(TokKind.BlockEnd, "%}");
                        elseBody = ParseBody(out _, "endfor");
                    }

                    Expect(TokKind.BlockEnd, "%}");
                    return new ForNode(targets, iterable, filter, body, elseBody, nameTok.Position);
                }

            case "set":
                {
                    string name = ExpectName();
                    string? attribute = null;
                    if (IsOp("."))
                    {
                        _pos++;
                        attribute = ExpectName();
                    }

                    if (IsOp(","))
                    {
                        throw Error(Current.Position, "unsupported construct: tuple assignment in set");
                    }

                    if (Current.Kind == TokKind.BlockEnd && attribute is null)
                    {
                        _pos++;
                        var body = ParseBody(out _, "endset");
                        Expect(TokKind.BlockEnd, "%}");
                        return new SetBlockNode(name, body, nameTok.Position);
                    }

                    ExpectOp("=");
                    var value = ParseExpression();
                    Expect(TokKind.BlockEnd, "%}");
                    return new SetNode(name, attribute, value, nameTok.Position);
                }

            default:
                if (_unsupportedTags.Contains(nameTok.Value))
                {
                    throw Error(nameTok.Position, $"unsupported construct: '{{% {nameTok.Value} %}}'");
                }

                throw Error(nameTok.Position, $"unknown statement '{{% {nameTok.Value} %}}'");
        }
    }

    private string ExpectName()
    {
        if (Current.Kind != TokKind.Name)
        {
            throw Error(Current.Position, $"expected a name, found '{Current.Value}'");
        }

        return _tokens[_pos++].Value;
    }

    private void Expect(TokKind kind, string text)
    {
        if (Current.Kind != kind)
        {
            throw Error(Current.Position, $"expected '{text}', found '{Current.Value}'");
        }

        _pos++;
    }

    private void ExpectOp(string op)
    {
        if (!IsOp(op))
        {
            throw Error(Current.Position, $"expected '{op}', found '{Current.Value}'");
        }

        _pos++;
    }

    private bool IsOp(string op) => Current.Kind == TokKind.Op && Current.Value == op;

    private bool IsName(string name) => Current.Kind == TokKind.Name && Current.Value == name;

    private Expr ParseExpression() => ParseOr(allowConditional: true);

    private Expr ParseOr(bool allowConditional)
    {
        Enter(Current.Position);
        try
        {
            return ParseOrCore(allowConditional);
        }
        finally
        {
            _depth--;
        }
    }

    private Expr ParseOrCore(bool allowConditional)
    {
        var left = ParseAnd();
        while (IsName("or"))
        {
            int p = Current.Position;
            _pos++;
            left = new BinaryExpr("or", left, ParseAnd(), p);
        }

        if (allowConditional && IsName("if"))
        {
            int p = Current.Position;
            _pos++;
            var cond = ParseOr(allowConditional: false);
            Expr? otherwise = null;
            if (IsName("else"))
            {
                _pos++;
                otherwise = ParseOr(allowConditional: true);
            }

            return new ConditionalExpr(cond, left, otherwise, p);
        }

        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (IsName("and"))
        {
            int p = Current.Position;
            _pos++;
            left = new BinaryExpr("and", left, ParseNot(), p);
        }

        return left;
    }

    private Expr ParseNot()
    {
        if (IsName("not"))
        {
            int p = Current.Position;
            _pos++;
            Enter(p);
            try
            {
                return new UnaryExpr("not", ParseNot(), p);
            }
            finally
            {
                _depth--;
            }
        }

        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var left = ParseMath1();
        while (true)
        {
            int p = Current.Position;
            if (Current.Kind == TokKind.Op && Current.Value is "==" or "!=" or "<" or ">" or "<=" or ">=")
            {
                string op = Current.Value;
                _pos++;
                left = new BinaryExpr(op, left, ParseMath1(), p);
            }
            else if (IsName("in"))
            {
                _pos++;
                left = new BinaryExpr("in", left, ParseMath1(), p);
            }
            else if (IsName("not") && _tokens[_pos + 1].Kind == TokKind.Name && _tokens[_pos + 1].Value == "in")
            {
                _pos += 2;
                left = new UnaryExpr("not", new BinaryExpr("in", left, ParseMath1(), p), p);
            }
            else if (IsName("is"))
            {
                _pos++;
                bool negated = false;
                if (IsName("not"))
                {
                    negated = true;
                    _pos++;
                }

                string test = ExpectName();
                var args = new List<Expr>();
                if (IsOp("("))
                {
                    args = ParseCallArgs(out _);
                }
                else if (Current.Kind is TokKind.String or TokKind.Integer or TokKind.Float)
                {
                    args.Add(ParsePrimary());
                }

                left = new TestExpr(left, test, negated, args, p);
            }
            else
            {
                return left;
            }
        }
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.Kind == TokKind.Op && Current.Value is "+" or "-")
        {
            int p = Current.Position;
            string op = Current.Value;
            _pos++;
            left = new BinaryExpr(op, left, ParseConcat(), p);
        }

        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        while (IsOp("~"))
        {
            int p = Current.Position;
            _pos++;
            left = new BinaryExpr("~", left, ParseMath2(), p);
        }

        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParseUnary();
        while (Current.Kind == TokKind.Op && Current.Value is "*" or "/" or "//" or "%")
        {
            int p = Current.Position;
            string op = Current.Value;
            _pos++;
            left = new BinaryExpr(op, left, ParseUnary(), p);
        }

        return left;
    }

    private Expr ParseUnary()
    {
        if (Current.Kind == TokKind.Op && Current.Value is "-" or "+")
        {
            int p = Current.Position;
            string op = Current.Value;
            _pos++;
            Enter(p);
            try
            {
                return new UnaryExpr(op, ParseUnary(), p);
            }
            finally
            {
                _depth--;
            }
        }

        var expr = ParsePostfix(ParsePrimary());
        while (IsOp("|"))
        {
            int p = Current.Position;
            _pos++;
            string name = ExpectName();
            var args = new List<Expr>();
            var kwargs = new List<(string, Expr)>();
            if (IsOp("("))
            {
                args = ParseCallArgs(out kwargs);
            }

            expr = ParsePostfix(new FilterExpr(expr, name, args, kwargs, p));
        }

        return expr;
    }

    private Expr ParsePostfix(Expr expr)
    {
        while (true)
        {
            int p = Current.Position;
            if (IsOp("."))
            {
                _pos++;
                if (Current.Kind == TokKind.Integer)
                {
                    expr = new IndexExpr(expr, new LiteralExpr(long.Parse(Current.Value, CultureInfo.InvariantCulture), p), p);
                    _pos++;
                }
                else
                {
                    expr = new AttrExpr(expr, ExpectName(), p);
                }
            }
            else if (IsOp("["))
            {
                _pos++;
                Expr? start = null;
                if (!IsOp(":"))
                {
                    start = ParseExpression();
                }

                if (IsOp(":"))
                {
                    _pos++;
                    Expr? stop = null;
                    Expr? step = null;
                    if (!IsOp("]") && !IsOp(":"))
                    {
                        stop = ParseExpression();
                    }

                    if (IsOp(":"))
                    {
                        _pos++;
                        if (!IsOp("]"))
                        {
                            step = ParseExpression();
                        }
                    }

                    ExpectOp("]");
                    expr = new SliceExpr(expr, start, stop, step, p);
                }
                else
                {
                    ExpectOp("]");
                    expr = new IndexExpr(expr, start!, p);
                }
            }
            else if (IsOp("("))
            {
                var args = ParseCallArgs(out var kwargs);
                expr = new CallExpr(expr, args, kwargs, p);
            }
            else
            {
                return expr;
            }
        }
    }

    private List<Expr> ParseCallArgs(out List<(string Name, Expr Value)> kwargs)
    {
        ExpectOp("(");
        var args = new List<Expr>();
        kwargs = [];
        while (!IsOp(")"))
        {
            if (Current.Kind == TokKind.Name && _tokens[_pos + 1].Kind == TokKind.Op && _tokens[_pos + 1].Value == "=")
            {
                string name = Current.Value;
                _pos += 2;
                kwargs.Add((name, ParseExpression()));
            }
            else
            {
                args.Add(ParseExpression());
            }

            if (!IsOp(","))
            {
                break;
            }

            _pos++;
        }

        ExpectOp(")");
        return args;
    }

    private Expr ParsePrimary()
    {
        var tok = Current;
        switch (tok.Kind)
        {
            case TokKind.String:
                {
                    _pos++;
                    string value = tok.Value;
                    while (Current.Kind == TokKind.String)
                    {
                        value += Current.Value;
                        _pos++;
                    }

                    return new LiteralExpr(value, tok.Position);
                }

            case TokKind.Integer:
                _pos++;
                return new LiteralExpr(long.Parse(tok.Value, CultureInfo.InvariantCulture), tok.Position);
            case TokKind.Float:
                _pos++;
                return new LiteralExpr(double.Parse(tok.Value, CultureInfo.InvariantCulture), tok.Position);
            case TokKind.Name:
                _pos++;
                return tok.Value switch
                {
                    "true" or "True" => new LiteralExpr(true, tok.Position),
                    "false" or "False" => new LiteralExpr(false, tok.Position),
                    "none" or "None" => new LiteralExpr(null, tok.Position),
                    _ => new NameExpr(tok.Value, tok.Position),
                };
            case TokKind.Op when tok.Value == "(":
                {
                    _pos++;
                    var inner = ParseExpression();
                    if (IsOp(","))
                    {
                        var items = new List<Expr> { inner };
                        while (IsOp(","))
                        {
                            _pos++;
                            if (IsOp(")"))
                            {
                                break;
                            }

                            items.Add(ParseExpression());
                        }

                        ExpectOp(")");
                        return new ListExpr(items, tok.Position);
                    }

                    ExpectOp(")");
                    return inner;
                }

            case TokKind.Op when tok.Value == "[":
                {
                    _pos++;
                    var items = new List<Expr>();
                    while (!IsOp("]"))
                    {
                        items.Add(ParseExpression());
                        if (!IsOp(","))
                        {
                            break;
                        }

                        _pos++;
                    }

                    ExpectOp("]");
                    return new ListExpr(items, tok.Position);
                }

            case TokKind.Op when tok.Value == "{":
                {
                    _pos++;
                    var items = new List<(Expr, Expr)>();
                    while (!IsOp("}"))
                    {
                        var key = ParseExpression();
                        ExpectOp(":");
                        items.Add((key, ParseExpression()));
                        if (!IsOp(","))
                        {
                            break;
                        }

                        _pos++;
                    }

                    ExpectOp("}");
                    return new DictExpr(items, tok.Position);
                }

            default:
                throw Error(tok.Position, $"unexpected '{tok.Value}' in expression");
        }
    }
}
