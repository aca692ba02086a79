using System.Net;
using System.Net.Http.Headers;
using Idefics3.Runtime;

namespace Idefics3.Hub;

/// <summary>
/// Sends hub requests: the token only to the hub's own host, <c>Accept-Encoding: identity</c>, range requests, and
/// redirects followed hop by hop under a policy (http(s) only, no https-to-http, no internal addresses from a public
/// endpoint). Also the small URL and header helpers every hub step uses.
/// </summary>
internal sealed class HubTransport
{
    private const int MaxRedirects = 10;

    private readonly HttpClient _httpClient;

    /// <summary>Initializes a new instance of the <see cref="HubTransport"/> class.</summary>
    /// <param name="httpClient">The client (it must not follow redirects itself).</param>
    public HubTransport(HttpClient httpClient) => _httpClient = httpClient;

    /// <summary>Gets the client.</summary>
    public HttpClient HttpClient => _httpClient;

    public async Task<HttpResponseMessage> SendAsync(
        HubRequestContext context,
        HttpMethod method,
        Uri uri,
        long? rangeStart,
        string? file,
        Func<HttpResponseMessage, bool>? stopAtRedirect,
        CancellationToken cancellationToken)
    {
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, uri);
            if (context.Options.Token is { } token && SameHost(uri, context.Options.Endpoint))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            if (rangeStart is long start)
            {
                request.Headers.Range = new RangeHeaderValue(start, null);
            }

            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            HttpResponseMessage response;
            try
            {
                response = await _httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw HubErrors.NetworkError(context, uri, ex, file);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw HubErrors.NetworkError(context, uri, ex, file);
            }

            if (!IsRedirect(response.StatusCode) || (stopAtRedirect?.Invoke(response) ?? false))
            {
                return response;
            }

            Uri? location = response.Headers.Location;
            response.Dispose();
            if (location is null || hop >= MaxRedirects)
            {
                throw context.Error(HubErrorKind.UnexpectedResponse, location is null ? $"{uri} redirected without a Location." : $"Too many redirects from {uri}.", file);
            }

            Uri next = location.IsAbsoluteUri ? location : new Uri(uri, location);
            CheckRedirect(context, uri, next, file);
            uri = next;
        }
    }

    /// <summary>
    /// Refuses a redirect to another scheme (file://, ftp://), from https down to http, or to a loopback, link-local or
    /// private address unless the endpoint itself is on such an address (a local mirror). Real hub redirects go to
    /// public https download servers.
    /// </summary>
    public static void CheckRedirect(HubRequestContext context, Uri from, Uri to, string? file)
    {
        if (to.Scheme != Uri.UriSchemeHttp && to.Scheme != Uri.UriSchemeHttps)
        {
            throw context.Error(HubErrorKind.UnexpectedResponse, $"{from} redirected to '{to}', whose scheme '{to.Scheme}' is not http(s); the redirect was not followed.", file);
        }

        if (from.Scheme == Uri.UriSchemeHttps && to.Scheme == Uri.UriSchemeHttp)
        {
            throw context.Error(HubErrorKind.UnexpectedResponse, $"{from} redirected from https down to plain http ({to}); the redirect was not followed.", file);
        }

        // A public endpoint may not send the client to an internal address; a local or private mirror may, except to
        // link-local addresses (cloud metadata services).
        Uri endpoint = context.Options.Endpoint;
        if (!SameHost(to, endpoint) && NetworkAddressPolicy.IsBlockedHost(to, out string address) &&
            (!NetworkAddressPolicy.IsBlockedHost(endpoint, out _) || NetworkAddressPolicy.IsLinkLocalHost(to)))
        {
            throw context.Error(HubErrorKind.UnexpectedResponse, $"{from} redirected to {to}, an internal address ({address}) the endpoint {endpoint.Host} may not send downloads to; the redirect was not followed.", file);
        }
    }

    /// <summary>Reads a whole body of at most <paramref name="limit"/> bytes; null when it is longer (reading stops at the limit).</summary>
    public static async Task<byte[]?> ReadBoundedAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[64 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    public static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    public static bool SameHost(Uri uri, Uri endpoint) =>
        string.Equals(uri.IdnHost, endpoint.IdnHost, StringComparison.OrdinalIgnoreCase) && uri.Port == endpoint.Port;

    public static string? Header(HttpResponseMessage response, string name)
    {
        if (response.Headers.TryGetValues(name, out IEnumerable<string>? values) ||
            response.Content.Headers.TryGetValues(name, out values))
        {
            return values.FirstOrDefault();
        }

        return null;
    }

    public static Uri EndpointUri(Uri endpoint, string relative) =>
        new(endpoint.AbsoluteUri.TrimEnd('/') + "/" + relative);

    public static Uri ResolveUri(HubRequestContext context, string file) =>
        EndpointUri(
            context.Options.Endpoint,
            $"{context.Reference.RepoId}/resolve/{context.Commit}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");
}
