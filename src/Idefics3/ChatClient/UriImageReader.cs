using System.Net;
using System.Net.Sockets;
using Idefics3.Runtime;

namespace Idefics3.ChatClient;

/// <summary>
/// Reads the bytes of an image named by a URI, only for the schemes the options allow, with a size limit and a time
/// limit. Never buffers more than the limit, never follows a redirect to another scheme or (unless allowed) to a
/// loopback, link-local or private address, and reads only regular files. Every failure is an
/// <see cref="ImageFetchException"/> (the caller's cancellation stays an <see cref="OperationCanceledException"/>).
/// </summary>
public sealed class UriImageReader : IDisposable
{
    /// <summary>The most redirects one download follows.</summary>
    internal const int MaxRedirects = 5;

    private readonly Idefics3ChatClientOptions _options;
    private readonly HttpClient? _ownedClient;

    /// <summary>Initializes a new instance of the <see cref="UriImageReader"/> class.</summary>
    /// <param name="options">Which schemes are allowed, the size and time limits, and the <see cref="HttpClient"/> to use (one is created and owned when none is given).</param>
    public UriImageReader(Idefics3ChatClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        if (options.AllowHttpUris && options.HttpClient is null)
        {
            var handler = new SocketsHttpHandler
            {
                AutomaticDecompression = DecompressionMethods.All,
                AllowAutoRedirect = false, // followed here, hop by hop, so each target is checked
            };
            if (!options.AllowPrivateNetworkUris)
            {
                handler.ConnectCallback = ConnectToPublicAddressAsync;
            }

            _ownedClient = new HttpClient(handler);
        }
    }

    /// <summary>Reads the bytes of the image named by <paramref name="uri"/>.</summary>
    /// <param name="uri">An absolute <c>http</c>, <c>https</c> or <c>file</c> URI (each only when the options allow it).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The image's bytes, at most <see cref="Idefics3ChatClientOptions.MaxImageBytes"/>.</returns>
    /// <exception cref="ImageFetchException">The scheme is not allowed, the image is too large or too slow, or the read failed.</exception>
    public async Task<byte[]> ReadAsync(Uri uri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri)
        {
            throw new ImageFetchException(uri.OriginalString, "the URI is not absolute", null, null);
        }

        if (uri.IsFile)
        {
            if (!_options.AllowFileUris)
            {
                throw new ImageFetchException(
                    uri.ToString(),
                    "names a local file, and reading files is off. Set Idefics3ChatClientOptions.AllowFileUris, or pass the bytes as DataContent (DataContent.LoadFromAsync(path))",
                    null,
                    null);
            }

            return await ReadFileAsync(uri, cancellationToken).ConfigureAwait(false);
        }

        CheckHttpScheme(uri);
        if (!_options.AllowHttpUris)
        {
            throw new ImageFetchException(
                uri.ToString(),
                "must be downloaded, and downloading is off. Set Idefics3ChatClientOptions.AllowHttpUris, or download the image yourself and pass it as DataContent",
                null,
                null);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ImageDownloadTimeout);
        Uri current = uri;
        try
        {
            for (int hop = 0; ; hop++)
            {
                CheckHost(current);

                using HttpResponseMessage response = await (_options.HttpClient ?? _ownedClient!)
                    .GetAsync(current, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                if (IsRedirect(response.StatusCode))
                {
                    current = NextHop(uri, current, response, hop);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw new ImageFetchException(current.ToString(), $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", response.StatusCode, null);
                }

                // A client that follows redirects itself still reports where it ended.
                if (!_options.AllowPrivateNetworkUris && response.RequestMessage?.RequestUri is { } final && final != current)
                {
                    CheckHttpScheme(final);
                    CheckHost(final);
                }

                return await ReadBodyAsync(current, response, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ImageFetchException(current.ToString(), $"the download took longer than {_options.ImageDownloadTimeout}", null, new TimeoutException(ex.Message, ex));
        }
        catch (HttpRequestException ex)
        {
            throw FindInner<ImageFetchException>(ex) ?? new ImageFetchException(current.ToString(), "the download failed: " + ex.Message, ex.StatusCode, ex);
        }
        catch (IOException ex)
        {
            throw new ImageFetchException(current.ToString(), "the download failed: " + ex.Message, null, ex);
        }
    }

    /// <summary>Disposes the <see cref="HttpClient"/> this reader created (never one passed in the options).</summary>
    public void Dispose() => _ownedClient?.Dispose();

    private async Task<byte[]> ReadFileAsync(Uri uri, CancellationToken cancellationToken)
    {
        string path = uri.LocalPath;
        var info = new FileInfo(path);
        if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target)
        {
            info = target; // judge the file a symlink points at (its size, whether it is a device or a FIFO)
        }

        if (!info.Exists)
        {
            throw new ImageFetchException(uri.ToString(), "the file does not exist", null, new FileNotFoundException(null, path));
        }

        // Devices (/dev/zero), FIFOs and /proc files report length 0: refused before they are opened (a FIFO's open
        // would block until a writer comes, and a device never ends).
        if (info.Length == 0)
        {
            throw new ImageFetchException(uri.ToString(), "is empty or not a regular file (a device, a FIFO or a pseudo-file)", null, null);
        }

        if (info.Length > _options.MaxImageBytes)
        {
            throw new ImageFetchException(uri.ToString(), $"has {info.Length} bytes, over the limit of {_options.MaxImageBytes}", null, null);
        }

        try
        {
            using var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, Options = FileOptions.Asynchronous });
            return await ReadBoundedAsync(uri, stream, info.Length, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageFetchException(uri.ToString(), "cannot be read: " + ex.Message, null, ex);
        }
    }

    private Task<byte[]> ReadBodyAsync(Uri uri, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        long? declared = response.Content.Headers.ContentLength;
        if (declared > _options.MaxImageBytes)
        {
            throw new ImageFetchException(uri.ToString(), $"has {declared} bytes, over the limit of {_options.MaxImageBytes}", null, null);
        }

        return ReadStreamAsync(uri, response, declared, cancellationToken);
    }

    private async Task<byte[]> ReadStreamAsync(Uri uri, HttpResponseMessage response, long? declared, CancellationToken cancellationToken)
    {
        using Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await ReadBoundedAsync(uri, stream, declared, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads at most the limit (and, when a length is known, no more than it), checking the size on the stream itself.</summary>
    private async Task<byte[]> ReadBoundedAsync(Uri uri, Stream stream, long? expected, CancellationToken cancellationToken)
    {
        long limit = Math.Min(_options.MaxImageBytes, expected ?? long.MaxValue);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new ImageFetchException(
                    uri.ToString(),
                    expected is null || expected > _options.MaxImageBytes
                        ? $"is larger than the limit of {_options.MaxImageBytes} bytes"
                        : $"sent more than the {expected} bytes it declared",
                    null,
                    null);
            }

            buffer.Write(chunk, 0, read);
        }

        if (expected is not null && buffer.Length != expected)
        {
            throw new ImageFetchException(uri.ToString(), $"ended after {buffer.Length} of the {expected} bytes it declared", null, null);
        }

        return buffer.ToArray();
    }

    private static bool IsRedirect(HttpStatusCode status) => (int)status is 301 or 302 or 303 or 307 or 308;

    private static Uri NextHop(Uri original, Uri current, HttpResponseMessage response, int hop)
    {
        if (hop >= MaxRedirects)
        {
            throw new ImageFetchException(original.ToString(), $"more than {MaxRedirects} redirects", response.StatusCode, null);
        }

        Uri? location = response.Headers.Location;
        if (location is null)
        {
            throw new ImageFetchException(current.ToString(), $"HTTP {(int)response.StatusCode} without a Location header", response.StatusCode, null);
        }

        Uri next = location.IsAbsoluteUri ? location : new Uri(current, location);
        CheckHttpScheme(next);
        return next;
    }

    private static ImageFetchException Blocked(Uri uri, string address) => new(
        uri.ToString(),
        $"the address {address} is loopback, link-local or private, and downloads may not reach it. Set Idefics3ChatClientOptions.AllowPrivateNetworkUris to allow it",
        null,
        null);

    private void CheckHost(Uri uri)
    {
        if (!_options.AllowPrivateNetworkUris && NetworkAddressPolicy.IsBlockedHost(uri, out string address))
        {
            throw Blocked(uri, address);
        }
    }

    private static void CheckHttpScheme(Uri uri)
    {
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new ImageFetchException(uri.ToString(), $"the scheme '{uri.Scheme}' is not supported for downloads; use http(s), file (when allowed), or DataContent", null, null);
        }
    }

    private static T? FindInner<T>(Exception ex)
        where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>Resolves the host and connects only to an address the policy allows (checked at connect time, so DNS cannot rebind past it).</summary>
    private static async ValueTask<Stream> ConnectToPublicAddressAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        DnsEndPoint endPoint = context.DnsEndPoint;
        IPAddress[] addresses = IPAddress.TryParse(endPoint.Host.Trim('[', ']'), out IPAddress? literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endPoint.Host, cancellationToken).ConfigureAwait(false);
        IPAddress[] allowed = addresses.Where(a => !NetworkAddressPolicy.IsBlocked(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw Blocked(context.InitialRequestMessage.RequestUri!, string.Join(", ", addresses.Select(a => a.ToString())));
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
