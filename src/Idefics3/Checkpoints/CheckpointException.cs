namespace Idefics3.Checkpoints;

/// <summary>
/// A checkpoint (safetensors file, shard index, or the set of tensors it holds) is corrupt or does not fit the model.
/// The message names the file and, where it applies, the tensor.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="CheckpointException"/> class.</summary>
    public CheckpointException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CheckpointException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public CheckpointException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CheckpointException"/> class with a message and a cause.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CheckpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CheckpointException"/> class about one file.</summary>
    /// <param name="file">The file the error is about.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="innerException">The exception that caused this one, if any.</param>
    public CheckpointException(string file, string problem, Exception? innerException = null)
        : base($"{Path.GetFileName(file)}: {problem}", innerException)
    {
        File = file;
    }

    /// <summary>Gets the path of the file the error is about, when known.</summary>
    public string? File { get; }
}
