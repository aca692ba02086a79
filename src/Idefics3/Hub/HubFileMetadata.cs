namespace Idefics3.Hub;

/// <summary>What the hub says about one file before it is downloaded.</summary>
/// <param name="File">The path in the repository.</param>
/// <param name="BlobName">The cache blob name (the ETag).</param>
/// <param name="Sha256">The SHA-256 of LFS files, else null.</param>
/// <param name="Size">The declared size, when known.</param>
/// <param name="DownloadUri">Where to download it from (after the hub's redirect).</param>
internal sealed record HubFileMetadata(string File, string BlobName, string? Sha256, long? Size, Uri DownloadUri);
