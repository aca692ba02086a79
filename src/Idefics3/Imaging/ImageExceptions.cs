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

/// <summary>The data is not in a supported image format (PNG, JPEG, WebP, GIF, BMP, TIFF).</summary>
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
