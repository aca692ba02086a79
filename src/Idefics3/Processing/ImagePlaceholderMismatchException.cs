using System.Globalization;
using System.Text;

namespace Idefics3.Processing;

/// <summary>The prompt has a different number of <c>&lt;image&gt;</c> placeholders than images were given.</summary>
public sealed class ImagePlaceholderMismatchException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ImagePlaceholderMismatchException"/> class.</summary>
    public ImagePlaceholderMismatchException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ImagePlaceholderMismatchException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public ImagePlaceholderMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ImagePlaceholderMismatchException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ImagePlaceholderMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ImagePlaceholderMismatchException"/> class for the two counts.</summary>
    /// <param name="placeholders">The number of <c>&lt;image&gt;</c> placeholders in the prompt.</param>
    /// <param name="images">The number of images.</param>
    public ImagePlaceholderMismatchException(int placeholders, int images)
        : base($"The prompt has {placeholders} '<image>' placeholder(s) but {images} image(s) were given; they must match (a literal '<image>' typed in a text part also counts as a placeholder).")
    {
        Placeholders = placeholders;
        Images = images;
    }

    /// <summary>Gets the number of placeholders found.</summary>
    public int Placeholders { get; }

    /// <summary>Gets the number of images given.</summary>
    public int Images { get; }
}
