using System.Globalization;

namespace Idefics3.Hub;

/// <summary>
/// Asks the hub about one file (a <c>HEAD</c> on its resolve URL): its blob name (ETag), SHA-256 for LFS files, size and
/// download URL.
/// </summary>
internal static class HubFileProbe
{
    public static async Task<HubFileMetadata> ProbeAsync(HubTransport transport, HubRequestContext context, string file, CancellationToken cancellationToken)
    {
        Uri uri = HubTransport.ResolveUri(context, file);
        using HttpResponseMessage response = await transport.SendAsync(context, HttpMethod.Head, uri, null, file, HasFileMetadata, cancellationToken).ConfigureAwait(false);
        bool redirect = HubTransport.IsRedirect(response.StatusCode);
        if (!response.IsSuccessStatusCode && !redirect)
        {
            throw HubErrors.HttpError(context, response, file);
        }

        string? linkedEtag = NormalizeEtag(HubTransport.Header(response, "X-Linked-Etag"));
        string? etag = linkedEtag ?? NormalizeEtag(HubTransport.Header(response, "ETag"));
        if (etag is null || !IsSafeBlobName(etag))
        {
            throw context.Error(HubErrorKind.UnexpectedResponse, $"The hub answered for '{file}' without a usable ETag ('{etag}'); the endpoint may not be a Hugging Face hub.", file);
        }

        long? size = ParseLong(HubTransport.Header(response, "X-Linked-Size")) ?? (redirect ? null : response.Content.Headers.ContentLength);
        string? sha256 = linkedEtag is { Length: 64 } && linkedEtag.All(char.IsAsciiHexDigit) ? linkedEtag.ToLowerInvariant() : null;
        Uri target = response.RequestMessage?.RequestUri ?? uri;
        if (redirect)
        {
            Uri location = response.Headers.Location
                ?? throw context.Error(HubErrorKind.UnexpectedResponse, $"The hub redirected '{file}' without a Location.", file);
            target = location.IsAbsoluteUri ? location : new Uri(target, location);
            HubTransport.CheckRedirect(context, uri, target, file);
        }

        return new HubFileMetadata(file, linkedEtag is null ? etag : etag.ToLowerInvariant(), sha256, size, target);
    }

    private static bool HasFileMetadata(HttpResponseMessage response) =>
        HubTransport.Header(response, "X-Linked-Etag") is not null || (HubTransport.Header(response, "ETag") is not null && HubTransport.Header(response, "X-Repo-Commit") is not null);

    private static string? NormalizeEtag(string? etag)
    {
        if (etag is null)
        {
            return null;
        }

        string value = etag.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }

        value = value.Trim('"');
        return value.Length == 0 ? null : value;
    }

    private static bool IsSafeBlobName(string name) =>
        name.Length <= 128 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static long? ParseLong(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long parsed) ? parsed : null;
}
