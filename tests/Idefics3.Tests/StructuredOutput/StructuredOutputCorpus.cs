using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Idefics3.Tests.StructuredOutput;

// C# types as callers of GetResponseAsync<T> write them; their schemas come from MEAI exactly as it builds them.
#pragma warning disable CA1812 // instantiated by the JSON deserializer

public enum Currency
{
    Usd,
    Eur,
    Chf,
}

[Description("An invoice read from a scan")]
public sealed record Invoice(string Vendor, DateOnly Date, List<InvoiceLine> Lines, decimal Total, Currency Currency, string? Notes);

public sealed record InvoiceLine(string Description, int Quantity, decimal UnitPrice);

public sealed class Contact
{
    public required string Name { get; init; }

    public int? Age { get; set; }

    public Guid Id { get; set; }

    public Uri? Website { get; set; }

    public DateTime CreatedAt { get; set; }

    public TimeOnly? Opens { get; set; }

    public Currency? Preferred { get; set; }

    public bool Active { get; set; }
}

public sealed class TreeNode
{
    public string Label { get; set; } = string.Empty;

    public List<TreeNode> Children { get; set; } = [];
}

public sealed class LinkedNode
{
    public int Value { get; set; }

    public LinkedNode? Next { get; set; }
}

[JsonDerivedType(typeof(Circle), "circle")]
[JsonDerivedType(typeof(Rectangle), "rectangle")]
public abstract class Shape
{
    public string? Color { get; set; }
}

public sealed class Circle : Shape
{
    public double Radius { get; set; }
}

public sealed class Rectangle : Shape
{
    public double Width { get; set; }

    public double Height { get; set; }
}

public sealed class Drawing
{
    public List<Shape> Shapes { get; set; } = [];
}

public sealed class Inventory
{
    public Dictionary<string, int> Stock { get; set; } = [];

    public Dictionary<string, InvoiceLine>? Lines { get; set; }
}

public sealed class Annotated
{
    [Range(1, 10)]
    public int Rating { get; set; }

    [StringLength(5, MinimumLength = 2)]
    public string Code { get; set; } = string.Empty;

    [MaxLength(3)]
    public List<int> Top { get; set; } = [];

    [Range(0.5, 9.5)]
    public double Weight { get; set; }

    [EmailAddress]
    public string Email { get; set; } = string.Empty;

    [RegularExpression("^[A-Z]{3}-[0-9]{2}$")]
    public string Ticket { get; set; } = string.Empty;
}

public sealed class Loose
{
    public object? Anything { get; set; }

    public JsonElement Raw { get; set; }

    public long Big { get; set; }

    public float Ratio { get; set; }
}

public sealed record Wrapped(List<string> Data);
#pragma warning restore CA1812
