using System.Net;
using Idefics3.Processing;

namespace Idefics3.Cli.Input;

/// <summary>Reads an image named on the command line: a local file, or an http(s) URL downloaded with a size and time limit.</summary>
internal sealed class ImageSource : IDisposable
{
    /// <summary>The largest image accepted, file or download.</summary>
    public const long MaxImageBytes = 50L * 1000 * 1000;

    private static readonly TimeSpan s_downloadTimeout = TimeSpan.FromSeconds(60);

    private readonly Lazy<HttpClient> _http = new(CreateHttpClient);

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
        if (_http.IsValueCreated)
        {
            _http.Value.Dispose();
        }
    }

    private static HttpClient CreateHttpClient()
    {
        var client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All }) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("idefics3-cli");
        return client;
    }

    private async Task<PromptImage> DownloadAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_downloadTimeout);
        try
        {
            using HttpResponseMessage response = await _http.Value.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"Downloading image '{uri}' failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
            }

            if (response.Content.Headers.ContentLength > MaxImageBytes)
            {
                throw new InvalidDataException($"Image '{uri}' has {response.Content.Headers.ContentLength} bytes, more than the limit of {MaxImageBytes}.");
            }

            await using Stream stream = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var buffer = new MemoryStream();
            byte[] chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, timeout.Token)) > 0)
            {
                if (buffer.Length + read > MaxImageBytes)
                {
                    throw new InvalidDataException($"Image '{uri}' is larger than the limit of {MaxImageBytes} bytes.");
                }

                buffer.Write(chunk, 0, read);
            }

            return new PromptImage(buffer.ToArray(), response.Content.Headers.ContentType?.MediaType ?? MediaTypeFromExtension(uri.AbsolutePath));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Downloading image '{uri}' took longer than {s_downloadTimeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            throw new HttpRequestException($"Downloading image '{uri}' failed: {ex.Message}", ex);
        }
    }

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
