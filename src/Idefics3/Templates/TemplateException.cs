namespace Idefics3.Templates;

/// <summary>
/// A chat template could not be parsed or rendered: a syntax error, a construct this Jinja subset does not support, a
/// runtime error (for example an attribute of an undefined value) or a <c>raise_exception</c> call in the template.
/// The message names the construct and the position (line and column, 1-based) in the template source.
/// </summary>
public sealed class TemplateException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="TemplateException"/> class.</summary>
    public TemplateException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TemplateException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public TemplateException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TemplateException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TemplateException"/> class for a position in the template.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="line">The 1-based line.</param>
    /// <param name="column">The 1-based column.</param>
    public TemplateException(string message, int line, int column)
        : base($"{message} (template line {line}, column {column})")
    {
        Line = line;
        Column = column;
    }

    /// <summary>Gets the 1-based line in the template source, or 0 when unknown.</summary>
    public int Line { get; }

    /// <summary>Gets the 1-based column in the template source, or 0 when unknown.</summary>
    public int Column { get; }
}
