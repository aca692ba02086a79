namespace Idefics3.Hub;

/// <summary>
/// A snapshot of download progress for one file and for the whole model. Reported through
/// <see cref="IProgress{T}"/>, possibly from several threads at once (files download in parallel).
/// </summary>
public sealed class DownloadProgress
{
    /// <summary>Gets the repository id, <c>org/name</c>.</summary>
    public required string RepoId { get; init; }

    /// <summary>Gets the repository path of the file this report is about.</summary>
    public required string FileName { get; init; }

    /// <summary>Gets the bytes of <see cref="FileName"/> on disk so far, including bytes kept from an earlier, interrupted attempt.</summary>
    public long FileBytesDownloaded { get; init; }

    /// <summary>Gets the size of <see cref="FileName"/> in bytes, when the server told it.</summary>
    public long? FileTotalBytes { get; init; }

    /// <summary>Gets a value indicating whether <see cref="FileName"/> is finished and verified.</summary>
    public bool IsFileComplete { get; init; }

    /// <summary>Gets the bytes on disk so far over all files that this call downloads.</summary>
    public long TotalBytesDownloaded { get; init; }

    /// <summary>Gets the total size of all files that this call downloads (files already cached are not counted).</summary>
    public long TotalBytes { get; init; }

    /// <summary>Gets how many of the files that this call downloads are finished.</summary>
    public int FilesCompleted { get; init; }

    /// <summary>Gets how many files this call downloads.</summary>
    public int FileCount { get; init; }

    /// <summary>Gets the average transfer rate of this call so far, in bytes per second, over all files.</summary>
    public double BytesPerSecond { get; init; }
}
