namespace Idefics3.Generation;

/// <summary>
/// A <see cref="RequestScheduler"/> refused a request because its queue already held
/// <see cref="RequestScheduler.QueueCapacity"/> waiting requests. Retry later or raise the capacity.
/// </summary>
public sealed class RequestQueueFullException : InvalidOperationException
{
    /// <summary>Initializes a new instance of the <see cref="RequestQueueFullException"/> class.</summary>
    public RequestQueueFullException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RequestQueueFullException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public RequestQueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RequestQueueFullException"/> class with a message and a cause.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public RequestQueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
