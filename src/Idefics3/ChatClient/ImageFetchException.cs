using Idefics3.Imaging;

namespace Idefics3;

/// <summary>
/// The image named by a <see cref="Microsoft.Extensions.AI.UriContent"/> could not be read: its scheme is not allowed
/// (or reading that kind of URI is off), it points at a blocked address (loopback, link-local or private unless
/// <see cref="Idefics3ChatClientOptions.AllowPrivateNetworkUris"/>), it is not a regular file, it is over
/// <see cref="Idefics3ChatClientOptions.MaxImageBytes"/>, the download failed or took longer than
/// <see cref="Idefics3ChatClientOptions.ImageDownloadTimeout"/>. It derives from <see cref="ImageDecodeException"/> so
/// one catch covers every image the caller sent. <see cref="Exception.InnerException"/> holds the original error.
/// </summary>
public sealed class ImageFetchException : ImageDecodeException
{
    /// <summary>Initializes a new instance of the <see cref="ImageFetchException"/> class.</summary>
    public ImageFetchException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ImageFetchException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public ImageFetchException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ImageFetchException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ImageFetchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ImageFetchException"/> class for one URI.</summary>
    /// <param name="uri">The image URI (as the caller sent it, or the redirect target).</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="statusCode">The HTTP status, when the server answered with an error.</param>
    /// <param name="innerException">The cause, or null.</param>
    public ImageFetchException(string uri, string problem, System.Net.HttpStatusCode? statusCode, Exception? innerException)
        : base($"Image '{uri}': {problem}", innerException!)
    {
        Uri = uri;
        StatusCode = statusCode;
    }

    /// <summary>Gets the URI the error is about, when known.</summary>
    public string? Uri { get; }

    /// <summary>Gets the HTTP status code when the server answered with an error status.</summary>
    public System.Net.HttpStatusCode? StatusCode { get; }
}
