namespace Idefics3.Imaging;

/// <summary>An image could not be decoded: truncated or corrupt data, a zero-sized picture, or a picture over the pixel limit.</summary>
public class ImageDecodeException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ImageDecodeException"/> class.</summary>
    public ImageDecodeException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ImageDecodeException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public ImageDecodeException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ImageDecodeException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ImageDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
