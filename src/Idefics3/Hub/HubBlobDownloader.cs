using System.Buffers;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Idefics3.Hub;

/// <summary>
/// Downloads one blob into the cache: under the blob's lock, to <c>blobs/&lt;hash&gt;.incomplete</c>, resuming with
/// range requests, reading no more than the declared size, treating a slow drip as a stall, and checking size and
/// SHA-256 before the rename.
/// </summary>
internal sealed class HubBlobDownloader
{
    private const int CopyBufferSize = 1 << 20;

    /// <summary>The largest file downloaded when neither the hub nor the response declares a size: 1 GiB (weights always declare one).</summary>
    internal const long MaxUndeclaredFileBytes = 1L << 30;

    /// <summary>The fewest bytes a transfer must deliver per <see cref="HubOptions.ReadTimeout"/>, so a slow drip counts as a stall.</summary>
    internal const int MinBytesPerReadTimeout = 64 * 1024;

    private readonly HubTransport _transport;
    private readonly ILogger _logger;
    private readonly Func<Stream, Stream>? _blobStreamWrapper;

    /// <summary>Initializes a new instance of the <see cref="HubBlobDownloader"/> class.</summary>
    /// <param name="transport">Sends the requests.</param>
    /// <param name="logger">Receives progress messages.</param>
    /// <param name="blobStreamWrapper">Wraps each blob file stream (tests simulate a full disk); null for none.</param>
    public HubBlobDownloader(HubTransport transport, ILogger logger, Func<Stream, Stream>? blobStreamWrapper)
    {
        _transport = transport;
        _logger = logger;
        _blobStreamWrapper = blobStreamWrapper;
    }

    public async Task DownloadFileAsync(HubRequestContext context, HubFileMetadata file, DownloadTracker.FileTracker tracker, CancellationToken cancellationToken)
    {
        string blob = context.Cache.BlobPath(file.BlobName);
        FileStream fileLock = await HubFileLock.AcquireAsync(context.Cache.LockPath(file.BlobName), _logger, cancellationToken).ConfigureAwait(false);
        await using (fileLock.ConfigureAwait(false))
        {
            if (!File.Exists(blob))
            {
                string incomplete = blob + ".incomplete";
                for (int attempt = 0; ; attempt++)
                {
                    try
                    {
                        await TransferAsync(context, file, incomplete, tracker, cancellationToken).ConfigureAwait(false);
                        break;
                    }
                    catch (HubException ex) when (ex.Kind == HubErrorKind.TransferInterrupted && attempt < context.Options.MaxResumeAttempts)
                    {
                        _logger.Resuming(file.File, attempt + 1, ex.Message);
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(4000, 250 << attempt)), cancellationToken).ConfigureAwait(false);
                    }
                }

                File.Move(incomplete, blob, overwrite: true);
            }
        }

        context.Cache.LinkSnapshotFile(context.Commit, file.File, blob);
        tracker.Complete();
    }

    private async Task TransferAsync(HubRequestContext context, HubFileMetadata file, string incomplete, DownloadTracker.FileTracker tracker, CancellationToken cancellationToken)
    {
        long existing = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
        if (file.Size is long expected && existing > expected)
        {
            File.Delete(incomplete);
            existing = 0;
        }

        if (file.Size is not long size || existing < size || size == 0)
        {
            _logger.Downloading(file.File, context.Reference.RepoId, file.Size, existing);
            using HttpResponseMessage response = await _transport.SendAsync(context, HttpMethod.Get, file.DownloadUri, existing > 0 ? existing : null, file.File, null, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.PartialContent && existing > 0)
            {
                if (response.Content.Headers.ContentRange?.From != existing)
                {
                    File.Delete(incomplete);
                    throw context.Error(HubErrorKind.TransferInterrupted, $"The server resumed '{file.File}' at the wrong offset; restarting it.", file.File);
                }
            }
            else if (response.StatusCode == HttpStatusCode.OK)
            {
                if (existing > 0)
                {
                    _logger.RangeIgnored(file.File);
                    existing = 0;
                }
            }
            else if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && existing > 0)
            {
                File.Delete(incomplete);
                throw context.Error(HubErrorKind.TransferInterrupted, $"The server refused to resume '{file.File}' at byte {existing}; restarting it.", file.File);
            }
            else if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                // A busy or failing download server: worth another attempt, keeping what is on disk.
                throw context.Error(
                    HubErrorKind.TransferInterrupted,
                    $"The download server answered HTTP {(int)response.StatusCode} {response.ReasonPhrase} for '{file.File}'; the partial file is kept and the next attempt resumes it.",
                    file.File);
            }
            else
            {
                throw HubErrors.HttpError(context, response, file.File);
            }

            tracker.SetOnDisk(existing);
            try
            {
                var stream = new FileStream(incomplete, existing > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
                await using (stream.ConfigureAwait(false))
                {
                    Stream target = _blobStreamWrapper?.Invoke(stream) ?? stream;
                    Stream body;
                    try
                    {
                        body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (IOException ex)
                    {
                        throw HubErrors.Interrupted(context, file, ex);
                    }

                    await using (body.ConfigureAwait(false))
                    {
                        // Reading stops as soon as the body passes the size the hub declared (or the response's own
                        // Content-Length, or a cap when nothing is declared), not after the whole body has arrived.
                        long limit = file.Size ?? (response.Content.Headers.ContentLength is long declared ? existing + declared : MaxUndeclaredFileBytes);
                        await CopyAsync(context, file, body, target, tracker, limit - existing, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            catch (HubException ex) when (ex.Kind == HubErrorKind.IntegrityCheckFailed)
            {
                File.Delete(incomplete); // the stream is closed here
                throw;
            }
        }

        long length = new FileInfo(incomplete).Length;
        if (file.Size is long total && length < total)
        {
            throw context.Error(HubErrorKind.TransferInterrupted, $"The transfer of '{file.File}' ended after {length} of {total} bytes; the partial file is kept and the next attempt resumes it.", file.File);
        }

        if (file.Size is long total2 && length > total2)
        {
            File.Delete(incomplete);
            throw context.Error(HubErrorKind.IntegrityCheckFailed, $"'{file.File}' arrived with {length} bytes instead of {total2}; the download was deleted.", file.File);
        }

        if (file.Sha256 is not null)
        {
            string actual = await HubHashing.Sha256Async(incomplete, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(actual, file.Sha256, StringComparison.Ordinal))
            {
                File.Delete(incomplete);
                throw context.Error(
                    HubErrorKind.IntegrityCheckFailed,
                    $"'{file.File}' failed its integrity check: SHA-256 {actual}, expected {file.Sha256}. The corrupt download was deleted; try again.",
                    file.File);
            }
        }

        _logger.Downloaded(file.File, length);
    }

    private static async Task CopyAsync(HubRequestContext context, HubFileMetadata file, Stream body, Stream target, DownloadTracker.FileTracker tracker, long maxBytes, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        using var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bool timed = context.Options.ReadTimeout != Timeout.InfiniteTimeSpan;
        long copied = 0;
        long windowBytes = 0;
        try
        {
            // A stall is a window of ReadTimeout with fewer than MinBytesPerReadTimeout bytes: one byte now and then
            // (a slow drip) does not keep a transfer alive forever.
            if (timed)
            {
                readTimeout.CancelAfter(context.Options.ReadTimeout);
            }

            while (true)
            {
                int read;
                try
                {
                    read = await body.ReadAsync(buffer, readTimeout.Token).ConfigureAwait(false);
                    windowBytes += read;
                    if (timed && windowBytes >= MinBytesPerReadTimeout)
                    {
                        windowBytes = 0;
                        readTimeout.CancelAfter(context.Options.ReadTimeout);
                    }
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw context.Error(HubErrorKind.TransferInterrupted, $"Fewer than {MinBytesPerReadTimeout} bytes of '{file.File}' arrived in {context.Options.ReadTimeout.TotalSeconds:0.#} s; the partial file is kept and the next attempt resumes it.", file.File, ex);
                }
                catch (IOException ex)
                {
                    throw HubErrors.Interrupted(context, file, ex);
                }
                catch (HttpRequestException ex)
                {
                    throw HubErrors.Interrupted(context, file, ex);
                }

                if (read == 0)
                {
                    break;
                }

                copied += read;
                if (copied > maxBytes)
                {
                    throw context.Error(HubErrorKind.IntegrityCheckFailed, $"'{file.File}' sent more than the {maxBytes} bytes expected; reading stopped there and the download was deleted.", file.File);
                }

                try
                {
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
                catch (IOException ex) when (HubErrors.IsDiskFull(ex))
                {
                    throw HubErrors.DiskFullError(context, file, ex);
                }

                tracker.Transferred(read);
            }

            try
            {
                await target.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex) when (HubErrors.IsDiskFull(ex))
            {
                throw HubErrors.DiskFullError(context, file, ex);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
