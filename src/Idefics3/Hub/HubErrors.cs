using System.Net;

namespace Idefics3.Hub;

/// <summary>The hub's error texts: each failure becomes a <see cref="HubException"/> whose message says what to do.</summary>
internal static class HubErrors
{
    public static HubException OfflineError(HubRepoReference reference, HubCache cache, string? commit, IReadOnlyList<string> missing)
    {
        string detail = commit is null
            ? $"there is no refs/{reference.Revision} in {cache.RepoFolder}"
            : $"snapshot {commit} lacks {string.Join(", ", missing)}";
        return new HubException(
            HubErrorKind.OfflineNotCached,
            $"Offline mode is on (HF_HUB_OFFLINE) and '{reference}' is not in the hub cache {cache.CacheDirectory}: {detail}. " +
            "Run once with network access (HF_HUB_OFFLINE unset) to download it, or pass a local model folder.")
        {
            RepoId = reference.RepoId,
            Revision = reference.Revision,
        };
    }

    public static HubException HttpError(HubRequestContext context, HttpResponseMessage response, string? file)
    {
        HubRepoReference reference = context.Reference;
        Uri endpoint = context.Options.Endpoint;
        string host = endpoint.GetLeftPart(UriPartial.Authority);
        int status = (int)response.StatusCode;
        string? code = HubTransport.Header(response, "X-Error-Code");
        string? serverMessage = HubTransport.Header(response, "X-Error-Message");
        string server = serverMessage is null ? string.Empty : $" The server said: {serverMessage}";
        string repoUrl = HubTransport.EndpointUri(endpoint, reference.RepoId).ToString();
        string what = file is null ? $"'{reference}'" : $"'{file}' of '{reference}'";

        (HubErrorKind kind, string message) = code switch
        {
            "GatedRepo" => (HubErrorKind.AccessDenied, AccessDeniedMessage(context, status, repoUrl, gated: true)),
            "RepoNotFound" => (HubErrorKind.RepositoryNotFound, RepoNotFoundMessage(context, status)),
            "RevisionNotFound" => (HubErrorKind.RevisionNotFound, $"Revision '{reference.Revision}' not found in repository '{reference.RepoId}' on {host} (HTTP {status}). Check the branch, tag or commit after '@'."),
            "EntryNotFound" => (HubErrorKind.FileNotFound, $"File {what} not found on {host} (HTTP {status})."),
            _ => status switch
            {
                401 or 403 => (HubErrorKind.AccessDenied, AccessDeniedMessage(context, status, repoUrl, gated: false)),
                404 when file is null => (HubErrorKind.RepositoryNotFound, RepoNotFoundMessage(context, status)),
                404 => (HubErrorKind.FileNotFound, $"File {what} not found on {host} (HTTP 404)."),
                _ => (HubErrorKind.UnexpectedResponse, $"{host} answered HTTP {status} {response.ReasonPhrase} for {what}."),
            },
        };

        return new HubException(kind, message + server)
        {
            RepoId = reference.RepoId,
            Revision = reference.Revision,
            FileName = file,
            StatusCode = status,
        };
    }

    public static string RepoNotFoundMessage(HubRequestContext context, int status)
    {
        HubRepoReference reference = context.Reference;
        string host = context.Options.Endpoint.GetLeftPart(UriPartial.Authority);
        return $"Repository not found: '{reference.RepoId}' (revision '{reference.Revision}') does not exist on {host} (HTTP {status}), or it is private. " +
               "Check the id and the revision; for a private repository, set HF_TOKEN to a token that can read it.";
    }

    public static string AccessDeniedMessage(HubRequestContext context, int status, string repoUrl, bool gated)
    {
        string host = context.Options.Endpoint.GetLeftPart(UriPartial.Authority);
        string kind = gated ? "is gated" : "is gated or private";
        string token = context.Options.Token is null
            ? $"No token was sent: create a read token at {host}/settings/tokens and put it in the HF_TOKEN environment variable. "
            : "The token in HF_TOKEN was not accepted: check that it is valid and may read this repository. ";
        return $"Access to '{context.Reference.RepoId}' was refused by {host} (HTTP {status}): the model {kind}. {token}" +
               $"For a gated model, also accept its terms of use at {repoUrl} while logged in with the token's account.";
    }

    public static HubException NetworkError(HubRequestContext context, Uri uri, Exception ex, string? file = null)
    {
        string target = uri.GetLeftPart(UriPartial.Authority);
        string endpoint = context.Options.Endpoint.GetLeftPart(UriPartial.Authority);
        string via = string.Equals(target, endpoint, StringComparison.OrdinalIgnoreCase) ? string.Empty : $" (a download server of {endpoint})";
        string reason = ex is TaskCanceledException ? "the request timed out" : ex.Message;
        return context.Error(
            HubErrorKind.NetworkUnavailable,
            $"Could not reach the Hugging Face hub at {target}{via}: {reason}. Check the network connection and proxy settings, " +
            "set HF_ENDPOINT to use a mirror, or set HF_HUB_OFFLINE=1 to use only models already in the cache. Partial downloads are kept.",
            file,
            ex);
    }

    public static HubException Interrupted(HubRequestContext context, HubFileMetadata file, Exception ex) =>
        context.Error(
            HubErrorKind.TransferInterrupted,
            $"The transfer of '{file.File}' was interrupted ({ex.Message}); the partial file is kept and the next attempt resumes it.",
            file.File,
            ex);

    public static HubException DiskFullError(HubRequestContext context, HubFileMetadata file, IOException ex) =>
        context.Error(
            HubErrorKind.DiskFull,
            $"The disk holding the hub cache {context.CacheOrNull?.CacheDirectory} is full while downloading '{file.File}' ({file.Size} bytes). " +
            "Free some space (or set HF_HUB_CACHE to a larger disk) and run again: the partial download is kept and resumed.",
            file.File,
            ex);

    public static bool IsDiskFull(IOException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        int code = ex.HResult;
        if (OperatingSystem.IsWindows())
        {
            // ERROR_HANDLE_DISK_FULL (39), ERROR_DISK_FULL (112), as HRESULTs 0x8007xxxx or raw.
            int win32 = code & 0xFFFF;
            return (code == win32 || (code & unchecked((int)0xFFFF0000)) == unchecked((int)0x80070000)) && win32 is 39 or 112;
        }

        // On Unix the HResult is the errno: ENOSPC is 28 everywhere; EDQUOT is 122 on Linux and 69 on macOS/BSD.
        return code == 28 || (OperatingSystem.IsLinux() && code == 122) || (!OperatingSystem.IsLinux() && code == 69);
    }
}
