namespace Idefics3.Imaging;

/// <summary>
/// The image header declares more pixels than <see cref="ImageDecodeOptions.MaxPixels"/> allows (decompression-bomb
/// guard); raised from the header, before the pixels are decoded.
/// </summary>
public sealed class ImageTooLargeException : ImageDecodeException
{
    /// <summary>Initializes a new instance of the <see cref="ImageTooLargeException"/> class.</summary>
    public ImageTooLargeException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ImageTooLargeException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public ImageTooLargeException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ImageTooLargeException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ImageTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
