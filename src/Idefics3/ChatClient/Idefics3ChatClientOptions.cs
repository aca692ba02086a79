namespace Idefics3;

/// <summary>Options of <see cref="Idefics3ChatClient"/>: how message content is mapped to the model.</summary>
public sealed class Idefics3ChatClientOptions
{
    /// <summary>Gets or sets what happens to content the model cannot use (audio, PDF, tool calls, other roles).</summary>
    public UnsupportedContentBehavior UnsupportedContent { get; set; } = UnsupportedContentBehavior.Throw;

    /// <summary>Gets or sets a value indicating whether <c>file://</c> <see cref="Microsoft.Extensions.AI.UriContent"/> images are read from disk. Off by default.</summary>
    public bool AllowFileUris { get; set; }

    /// <summary>Gets or sets a value indicating whether <c>http(s)://</c> <see cref="Microsoft.Extensions.AI.UriContent"/> images are downloaded. Off by default.</summary>
    public bool AllowHttpUris { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether image downloads may reach loopback, link-local (cloud metadata services)
    /// and private addresses, directly or through a redirect. Off by default: a prompt that names an internal URL must
    /// not make the service fetch it. With the private client the check runs on every resolved address at connect
    /// time; with a caller's <see cref="HttpClient"/> it runs on literal addresses and <c>localhost</c> in the URI and
    /// in every redirect, and name resolution is the caller's handler's business.
    /// </summary>
    public bool AllowPrivateNetworkUris { get; set; }

    /// <summary>Gets or sets the client used to download <c>http(s)://</c> images; a private one is created when null.
    /// Redirects it does not follow itself are followed by the reader (at most 5, http and https only).</summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>Gets or sets the largest image, in bytes, read from a URI (default 50 MiB).</summary>
    public long MaxImageBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Gets or sets the time limit of one image download (default 30 seconds).</summary>
    public TimeSpan ImageDownloadTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the model id reported in responses and metadata; the model's own id when null.</summary>
    public string? ModelId { get; set; }

    /// <summary>Creates a copy of these options.</summary>
    /// <returns>A new instance with the same values.</returns>
    public Idefics3ChatClientOptions Clone() => (Idefics3ChatClientOptions)MemberwiseClone();

    /// <summary>Checks the options and throws for invalid values, so mistakes surface at start-up.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(UnsupportedContent))
        {
            throw new ArgumentOutOfRangeException(nameof(UnsupportedContent), UnsupportedContent, "Unknown behaviour.");
        }

        if (MaxImageBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxImageBytes), MaxImageBytes, "Must be positive.");
        }

        if (ImageDownloadTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ImageDownloadTimeout), ImageDownloadTimeout, "Must be positive.");
        }
    }
}
