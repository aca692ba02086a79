namespace Idefics3.Hub;

/// <summary>
/// Resolving a model id or downloading a model from the Hugging Face hub failed. <see cref="Kind"/> says why; the
/// message explains what to do about it.
/// </summary>
public sealed class HubException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="HubException"/> class.</summary>
    public HubException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HubException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public HubException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HubException"/> class with a message and a cause.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public HubException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HubException"/> class with a kind, a message and an optional cause.</summary>
    /// <param name="kind">What went wrong.</param>
    /// <param name="message">The message that describes the error and what to do about it.</param>
    /// <param name="innerException">The exception that caused this one, if any.</param>
    public HubException(HubErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>Gets what went wrong.</summary>
    public HubErrorKind Kind { get; }

    /// <summary>Gets the repository id (<c>org/name</c>) the error is about, when known.</summary>
    public string? RepoId { get; init; }

    /// <summary>Gets the revision (branch, tag or commit) the error is about, when known.</summary>
    public string? Revision { get; init; }

    /// <summary>Gets the repository file the error is about, when known.</summary>
    public string? FileName { get; init; }

    /// <summary>Gets the HTTP status code the server answered with, when the error comes from an HTTP answer.</summary>
    public int? StatusCode { get; init; }
}
