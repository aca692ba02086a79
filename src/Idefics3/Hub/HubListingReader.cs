using System.Text.Json;

namespace Idefics3.Hub;

/// <summary>
/// Reads a repository's listing (the model-info API: the commit of a revision and its files), bounded in size and
/// time so an endless, huge or dripping answer is a <see cref="HubException"/>.
/// </summary>
internal static class HubListingReader
{
    /// <summary>The largest model-info (listing) answer read: 32 MiB; a listing of a large repository is a few hundred KB.</summary>
    internal const int MaxModelInfoBytes = 32 * 1024 * 1024;

    public static async Task<HubRepoListing> ReadAsync(HubTransport transport, HubRepoReference reference, HubOptions options, CancellationToken cancellationToken)
    {
        var context = new HubRequestContext(reference, null, null, options);
        Uri uri = HubTransport.EndpointUri(options.Endpoint, $"api/models/{reference.RepoId}/revision/{Uri.EscapeDataString(reference.Revision)}");
        using HttpResponseMessage response = await transport.SendAsync(context, HttpMethod.Get, uri, null, null, null, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw HubErrors.HttpError(context, response, file: null);
        }

        JsonDocument document;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.ReadTimeout != Timeout.InfiniteTimeSpan)
        {
            deadline.CancelAfter(options.ReadTimeout); // the whole answer, so a slow drip cannot hold the caller
        }

        try
        {
            if (response.Content.Headers.ContentLength > MaxModelInfoBytes)
            {
                throw context.Error(HubErrorKind.UnexpectedResponse, $"{uri} declared a model-info answer of {response.Content.Headers.ContentLength} bytes, over the limit of {MaxModelInfoBytes}.");
            }

            Stream body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                byte[] json = await HubTransport.ReadBoundedAsync(body, MaxModelInfoBytes, deadline.Token).ConfigureAwait(false)
                    ?? throw context.Error(HubErrorKind.UnexpectedResponse, $"{uri} sent a model-info answer larger than the limit of {MaxModelInfoBytes} bytes; reading stopped there.");
                document = JsonDocument.Parse(json);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw context.Error(HubErrorKind.NetworkUnavailable, $"{uri} did not finish its model-info answer within {options.ReadTimeout.TotalSeconds:0.#} s.", null, ex);
        }
        catch (JsonException ex)
        {
            throw context.Error(HubErrorKind.UnexpectedResponse, $"{uri} did not answer with JSON: {ex.Message}", null, ex);
        }
        catch (IOException ex)
        {
            throw HubErrors.NetworkError(context, uri, ex);
        }
        catch (HttpRequestException ex)
        {
            throw HubErrors.NetworkError(context, uri, ex);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            string? sha = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("sha", out JsonElement shaElement) && shaElement.ValueKind == JsonValueKind.String
                ? shaElement.GetString()
                : null;
            if (sha is null || !HubRepoReference.IsCommit(sha))
            {
                throw context.Error(HubErrorKind.UnexpectedResponse, $"{uri} answered without a valid commit hash in 'sha'.");
            }

            var files = new List<string>();
            if (root.TryGetProperty("siblings", out JsonElement siblings) && siblings.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement sibling in siblings.EnumerateArray())
                {
                    if (sibling.ValueKind == JsonValueKind.Object && sibling.TryGetProperty("rfilename", out JsonElement name) &&
                        name.ValueKind == JsonValueKind.String && name.GetString() is { Length: > 0 } file)
                    {
                        files.Add(file);
                    }
                }
            }

            return new HubRepoListing(sha, files);
        }
    }
}
