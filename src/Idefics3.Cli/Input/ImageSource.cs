using System.Net;
using Idefics3.ChatClient;
using Idefics3.Processing;

namespace Idefics3.Cli.Input;

/// <summary>Reads an image named on the command line: a local file, or an http(s) URL downloaded with a size and time limit.</summary>
internal sealed class ImageSource : IDisposable
{
    /// <summary>The largest image accepted, file or download.</summary>
    public const long MaxImageBytes = 50L * 1000 * 1000;

    private static readonly TimeSpan s_downloadTimeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http = CreateHttpClient();
    private readonly UriImageReader _reader;

    public ImageSource() => _reader = new UriImageReader(new Idefics3ChatClientOptions
    {
        AllowHttpUris = true,
        AllowPrivateNetworkUris = true, // the user typed the URL on their own machine: localhost and the LAN are theirs
        HttpClient = _http,
        MaxImageBytes = MaxImageBytes,
        ImageDownloadTimeout = s_downloadTimeout,
    });

    public static bool IsUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>Reads the image; a missing file is a <see cref="UsageException"/>, a failed download an <see cref="IOException"/>.</summary>
    public async Task<PromptImage> LoadAsync(string pathOrUrl, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrUrl);
        if (IsUrl(pathOrUrl))
        {
            return await DownloadAsync(new Uri(pathOrUrl), cancellationToken);
        }

        string path = pathOrUrl.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(pathOrUrl).LocalPath : pathOrUrl;
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new UsageException($"Image file '{pathOrUrl}' does not exist.");
        }

        if (info.Length > MaxImageBytes)
        {
            throw new InvalidDataException($"Image file '{pathOrUrl}' has {info.Length} bytes, more than the limit of {MaxImageBytes}.");
        }

        byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        return new PromptImage(bytes, MediaTypeFromExtension(path));
    }

    public void Dispose()
    {
        _reader.Dispose();
        _http.Dispose();
    }

    private static HttpClient CreateHttpClient()
    {
        var client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All }) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("idefics3-cli");
        return client;
    }

    private async Task<PromptImage> DownloadAsync(Uri uri, CancellationToken cancellationToken) =>
        new(await _reader.ReadAsync(uri, cancellationToken), MediaTypeFromExtension(uri.AbsolutePath));

    private static string? MediaTypeFromExtension(string path) => Path.GetExtension(path).ToUpperInvariant() switch
    {
        ".PNG" => "image/png",
        ".JPG" or ".JPEG" => "image/jpeg",
        ".WEBP" => "image/webp",
        ".GIF" => "image/gif",
        ".BMP" => "image/bmp",
        ".TIF" or ".TIFF" => "image/tiff",
        _ => null,
    };
}
