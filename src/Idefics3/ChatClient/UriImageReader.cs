using System.Net;

namespace Idefics3.ChatClient;

/// <summary>
/// Reads the bytes of an image named by a URI, only for the schemes the options allow, with a size limit and a time
/// limit. Never buffers more than the limit.
/// </summary>
internal sealed class UriImageReader : IDisposable
{
    private readonly Idefics3ChatClientOptions _options;
    private readonly HttpClient? _ownedClient;

    public UriImageReader(Idefics3ChatClientOptions options)
    {
        _options = options;
        if (options.AllowHttpUris && options.HttpClient is null)
        {
            _ownedClient = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All });
        }
    }

    public async Task<byte[]> ReadAsync(Uri uri, CancellationToken cancellationToken)
    {
        if (!uri.IsAbsoluteUri)
        {
            throw new ArgumentException($"Image URI '{uri}' is not absolute.", nameof(uri));
        }

        if (uri.IsFile)
        {
            if (!_options.AllowFileUris)
            {
                throw new NotSupportedException(
                    $"Image URI '{uri}' names a local file, and reading files is off. Set Idefics3ChatClientOptions.AllowFileUris, " +
                    "or pass the bytes as DataContent (DataContent.LoadFromAsync(path)).");
            }

            var info = new FileInfo(uri.LocalPath);
            if (!info.Exists)
            {
                throw new FileNotFoundException($"Image file '{uri.LocalPath}' does not exist.", uri.LocalPath);
            }

            if (info.Length > _options.MaxImageBytes)
            {
                throw new InvalidDataException($"Image file '{uri.LocalPath}' has {info.Length} bytes, over the limit of {_options.MaxImageBytes}.");
            }

            return await File.ReadAllBytesAsync(uri.LocalPath, cancellationToken).ConfigureAwait(false);
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new NotSupportedException($"Image URI scheme '{uri.Scheme}' is not supported; use http(s), file, or DataContent.");
        }

        if (!_options.AllowHttpUris)
        {
            throw new NotSupportedException(
                $"Image URI '{uri}' must be downloaded, and downloading is off. Set Idefics3ChatClientOptions.AllowHttpUris, " +
                "or download the image yourself and pass it as DataContent.");
        }

        HttpClient client = _options.HttpClient ?? _ownedClient!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ImageDownloadTimeout);
        try
        {
            using HttpResponseMessage response = await client
                .GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"Downloading image '{uri}' failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
            }

            long? declared = response.Content.Headers.ContentLength;
            if (declared > _options.MaxImageBytes)
            {
                throw new InvalidDataException($"Image '{uri}' has {declared} bytes, over the limit of {_options.MaxImageBytes}.");
            }

            using Stream stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            byte[] chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, timeout.Token).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > _options.MaxImageBytes)
                {
                    throw new InvalidDataException($"Image '{uri}' is larger than the limit of {_options.MaxImageBytes} bytes.");
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Downloading image '{uri}' took longer than {_options.ImageDownloadTimeout}.");
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            throw new HttpRequestException($"Downloading image '{uri}' failed: {ex.Message}", ex);
        }
    }

    public void Dispose() => _ownedClient?.Dispose();
}
