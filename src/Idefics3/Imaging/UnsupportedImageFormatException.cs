namespace Idefics3.Imaging;

/// <summary>The data is not in a supported image format (PNG, JPEG, WebP, GIF, BMP, ICO, TIFF).</summary>
public sealed class UnsupportedImageFormatException : ImageDecodeException
{
    /// <summary>Initializes a new instance of the <see cref="UnsupportedImageFormatException"/> class.</summary>
    public UnsupportedImageFormatException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="UnsupportedImageFormatException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public UnsupportedImageFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="UnsupportedImageFormatException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public UnsupportedImageFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
