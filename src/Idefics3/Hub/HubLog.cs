using Microsoft.Extensions.Logging;

namespace Idefics3.Hub;

/// <summary>Source-generated log messages of the hub resolver.</summary>
internal static partial class HubLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Using cached snapshot {Snapshot} for {Repo}@{Revision}")]
    public static partial void CacheHit(this ILogger logger, string repo, string revision, string snapshot);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Resolved {Repo}@{Revision} to commit {Commit}")]
    public static partial void ResolvedCommit(this ILogger logger, string repo, string revision, string commit);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Downloading {File} from {Repo} ({Size} bytes, resuming at {Offset})")]
    public static partial void Downloading(this ILogger logger, string file, string repo, long? size, long offset);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Transfer of {File} was interrupted (attempt {Attempt}); resuming: {Reason}")]
    public static partial void Resuming(this ILogger logger, string file, int attempt, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "The server ignored the range request for {File}; restarting it from byte 0")]
    public static partial void RangeIgnored(this ILogger logger, string file);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "The hub could not be reached; using cached snapshot {Snapshot}: {Reason}")]
    public static partial void NetworkFallback(this ILogger logger, string snapshot, string reason);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Waiting for another download of the same file to finish (lock {LockFile})")]
    public static partial void WaitingForLock(this ILogger logger, string lockFile);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "{File} is already in the cache as blob {Blob}")]
    public static partial void BlobCached(this ILogger logger, string file, string blob);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "Downloaded {File} ({Size} bytes)")]
    public static partial void Downloaded(this ILogger logger, string file, long size);
}
