namespace Idefics3.Templates;

/// <summary>Base of template statements.</summary>
internal abstract record Node(int Position);

internal sealed record TextNode(string Text, int Position) : Node(Position);

internal sealed record OutputNode(Expr Value, int Position) : Node(Position);

internal sealed record IfNode(List<(Expr Condition, List<Node> Body)> Branches, List<Node>? Else, int Position) : Node(Position);

internal sealed record ForNode(List<string> Targets, Expr Iterable, Expr? Filter, List<Node> Body, List<Node>? Else, int Position) : Node(Position);

internal sealed record SetNode(string Name, string? Attribute, Expr Value, int Position) : Node(Position);

internal sealed record SetBlockNode(string Name, List<Node> Body, int Position) : Node(Position);

/// <summary>Base of template expressions.</summary>
internal abstract record Expr(int Position);

internal sealed record LiteralExpr(object? Value, int Position) : Expr(Position);

internal sealed record NameExpr(string Name, int Position) : Expr(Position);

internal sealed record ListExpr(List<Expr> Items, int Position) : Expr(Position);

internal sealed record DictExpr(List<(Expr Key, Expr Value)> Items, int Position) : Expr(Position);

internal sealed record AttrExpr(Expr Target, string Name, int Position) : Expr(Position);

internal sealed record IndexExpr(Expr Target, Expr Index, int Position) : Expr(Position);

internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Position) : Expr(Position);

internal sealed record CallExpr(Expr Callee, List<Expr> Args, List<(string Name, Expr Value)> Kwargs, int Position) : Expr(Position);

internal sealed record FilterExpr(Expr Target, string Name, List<Expr> Args, List<(string Name, Expr Value)> Kwargs, int Position) : Expr(Position);

internal sealed record TestExpr(Expr Target, string Name, bool Negated, List<Expr> Args, int Position) : Expr(Position);

internal sealed record UnaryExpr(string Op, Expr Operand, int Position) : Expr(Position);

internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Position) : Expr(Position);

internal sealed record ConditionalExpr(Expr Condition, Expr Then, Expr? Else, int Position) : Expr(Position);
