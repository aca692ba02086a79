namespace Idefics3.Hub;

/// <summary>What went wrong while resolving or downloading a model from the Hugging Face hub.</summary>
public enum HubErrorKind
{
    /// <summary>The cause is not classified (the exception was created without a kind).</summary>
    Unknown = 0,

    /// <summary>The value is neither an existing folder nor a valid <c>org/name[@revision]</c> repository id.</summary>
    InvalidModelId,

    /// <summary>A <see cref="HubOptions"/> value (endpoint, cache folder, limits) is unusable.</summary>
    InvalidOptions,

    /// <summary>The repository does not exist on the endpoint, or is private and no accepted token was sent.</summary>
    RepositoryNotFound,

    /// <summary>The repository exists but the branch, tag or commit does not.</summary>
    RevisionNotFound,

    /// <summary>A file the model needs is not in the repository.</summary>
    FileNotFound,

    /// <summary>The repository is gated or private and the request was refused (HTTP 401 or 403).</summary>
    AccessDenied,

    /// <summary>Offline mode (<c>HF_HUB_OFFLINE</c>) is on and the model is not complete in the local cache.</summary>
    OfflineNotCached,

    /// <summary>The hub endpoint could not be reached (DNS, connection refused, timeout, TLS).</summary>
    NetworkUnavailable,

    /// <summary>The disk holding the cache is full; the partial download is kept for a later resume.</summary>
    DiskFull,

    /// <summary>A transfer stopped before the end; the partial download is kept and the next call resumes it.</summary>
    TransferInterrupted,

    /// <summary>A downloaded file does not match its SHA-256 or size; the bad data was deleted.</summary>
    IntegrityCheckFailed,

    /// <summary>The server answered with a status or content this library does not understand.</summary>
    UnexpectedResponse,
}
