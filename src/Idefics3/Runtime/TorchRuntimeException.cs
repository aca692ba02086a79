namespace Idefics3.Runtime;

/// <summary>The TorchSharp native runtime could not be loaded or used.</summary>
public sealed class TorchRuntimeException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="TorchRuntimeException"/> class.</summary>
    public TorchRuntimeException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TorchRuntimeException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public TorchRuntimeException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TorchRuntimeException"/> class with a message and a cause.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public TorchRuntimeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
