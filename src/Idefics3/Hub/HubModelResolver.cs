using System.Buffers;
using Idefics3.Runtime;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Idefics3.Hub;

/// <summary>
/// Turns a <c>--model</c> value into a local model folder: an existing folder is returned as it is; a Hugging Face
/// repository id (<c>org/name</c> or <c>org/name@revision</c>) is resolved from the shared hub cache, downloading
/// the files the model needs when they are not cached yet.
/// </summary>
/// <remarks>
/// Downloads follow the <c>huggingface_hub</c> cache layout, so Python and .NET share one cache. Transfers are
/// resumable (<c>blobs/&lt;hash&gt;.incomplete</c> plus HTTP range requests), LFS files are checked against their
/// SHA-256, and several files download in parallel. An instance is thread-safe and meant to be reused.
/// </remarks>
public sealed class HubModelResolver : IDisposable
{
    private const int MaxRedirects = 10;
    private const int CopyBufferSize = 1 << 20;

    /// <summary>The largest model-info (listing) answer read: 32 MiB; a listing of a large repository is a few hundred KB.</summary>
    internal const int MaxModelInfoBytes = 32 * 1024 * 1024;

    /// <summary>The largest file downloaded when neither the hub nor the response declares a size: 1 GiB (weights always declare one).</summary>
    internal const long MaxUndeclaredFileBytes = 1L << 30;

    /// <summary>The fewest bytes a transfer must deliver per <see cref="HubOptions.ReadTimeout"/>, so a slow drip counts as a stall.</summary>
    internal const int MinBytesPerReadTimeout = 64 * 1024;

    private readonly HttpClient _httpClient;
    private readonly bool _disposeHttpClient;
    private readonly ILogger _logger;

    /// <summary>Initializes a new instance of the <see cref="HubModelResolver"/> class with its own <see cref="HttpClient"/>.</summary>
    /// <param name="logger">Receives progress and diagnostic messages; <see langword="null"/> for none.</param>
    public HubModelResolver(ILogger? logger = null)
        : this(CreateHttpClient(), disposeHttpClient: true, logger)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HubModelResolver"/> class with a caller-owned <see cref="HttpClient"/>.</summary>
    /// <param name="httpClient">
    /// The client to send requests with. It should not follow redirects itself (<c>AllowAutoRedirect = false</c>, as
    /// <see cref="CreateHttpClient"/> sets): the resolver follows them, reading the file's hash from the hub's answer
    /// and sending the token only to the hub's own host. It is not disposed by the resolver.
    /// </param>
    /// <param name="logger">Receives progress and diagnostic messages; <see langword="null"/> for none.</param>
    public HubModelResolver(HttpClient httpClient, ILogger? logger = null)
        : this(httpClient ?? throw new ArgumentNullException(nameof(httpClient)), disposeHttpClient: false, logger)
    {
    }

    private HubModelResolver(HttpClient httpClient, bool disposeHttpClient, ILogger? logger)
    {
        _httpClient = httpClient;
        _disposeHttpClient = disposeHttpClient;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Gets or sets a wrapper around each blob file stream being written; tests use it to simulate a full disk.</summary>
    internal Func<Stream, Stream>? BlobStreamWrapper { get; set; }

    /// <summary>Creates an <see cref="HttpClient"/> suited to the hub: no automatic redirects, no decompression.</summary>
    /// <returns>A new client; the caller disposes it.</returns>
    public static HttpClient CreateHttpClient()
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromSeconds(100) };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("idefics3-dotnet", typeof(HubModelResolver).Assembly.GetName().Version?.ToString() ?? "0"));
        return client;
    }

    /// <summary>
    /// Resolves a <c>--model</c> value to a local folder: an existing folder is returned (as a full path);
    /// <c>org/name[@revision]</c> is resolved to its snapshot folder in the hub cache, downloading what is missing.
    /// </summary>
    /// <param name="modelOrRepoId">A local folder, or a hub repository id with an optional <c>@branch</c>, <c>@tag</c> or <c>@commit</c>.</param>
    /// <param name="options">Cache folder, endpoint, token and offline mode; <see langword="null"/> reads them from the environment (<see cref="HubOptions.FromEnvironment"/>).</param>
    /// <param name="progress">Receives per-file and total download progress; may be called from several threads.</param>
    /// <param name="cancellationToken">Stops the resolution; partial downloads are kept and resumed by the next call.</param>
    /// <returns>The full path of a folder holding config.json, the tokenizer and processor files, and the weights.</returns>
    /// <exception cref="HubException">The value is invalid, the repository cannot be reached or read, or a download failed; <see cref="HubException.Kind"/> says which.</exception>
    public async Task<string> ResolveAsync(
        string modelOrRepoId,
        HubOptions? options = null,
        IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelOrRepoId);
        if (Directory.Exists(modelOrRepoId))
        {
            return Path.GetFullPath(modelOrRepoId);
        }

        if (File.Exists(modelOrRepoId))
        {
            throw new HubException(HubErrorKind.InvalidModelId, $"'{modelOrRepoId}' is a file; pass the folder that holds config.json and the weights, or a hub repository id (org/name).");
        }

        if (!HubRepoReference.TryParse(modelOrRepoId, out HubRepoReference? reference))
        {
            string problem;
            try
            {
                _ = HubRepoReference.Parse(modelOrRepoId);
                problem = "invalid id";
            }
            catch (HubException ex)
            {
                problem = ex.Message;
            }

            throw new HubException(HubErrorKind.InvalidModelId, $"'{modelOrRepoId}' is neither an existing folder nor a Hugging Face repository id. {problem}");
        }

        return await ResolveAsync(reference, options, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Resolves a hub repository and revision to its snapshot folder in the hub cache, downloading what is missing.</summary>
    /// <param name="reference">The repository and revision.</param>
    /// <param name="options">Cache folder, endpoint, token and offline mode; <see langword="null"/> reads them from the environment.</param>
    /// <param name="progress">Receives per-file and total download progress; may be called from several threads.</param>
    /// <param name="cancellationToken">Stops the resolution; partial downloads are kept and resumed by the next call.</param>
    /// <returns>The full path of the snapshot folder, <c>&lt;cache&gt;/models--org--name/snapshots/&lt;commit&gt;</c>.</returns>
    /// <exception cref="HubException">The repository cannot be reached or read, or a download failed; <see cref="HubException.Kind"/> says which.</exception>
    public async Task<string> ResolveAsync(
        HubRepoReference reference,
        HubOptions? options = null,
        IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        options ??= HubOptions.FromEnvironment();
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();

        var cache = new HubCache(options.CacheDirectory, reference);
        string? cachedCommit = reference.IsCommitHash ? reference.Revision : cache.ReadRef(reference.Revision);
        IReadOnlyList<string> missing = cachedCommit is null ? [] : cache.MissingCoreFiles(cachedCommit);
        bool cachedComplete = cachedCommit is not null && missing.Count == 0;
        if (cachedComplete && (options.Offline || !options.CheckForUpdates))
        {
            string snapshot = cache.SnapshotFolder(cachedCommit!);
            _logger.CacheHit(reference.RepoId, reference.Revision, snapshot);
            return snapshot;
        }

        if (options.Offline)
        {
            throw OfflineError(reference, cache, cachedCommit, missing);
        }

        RepoListing listing;
        try
        {
            listing = await GetListingAsync(reference, options, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException ex) when (ex.Kind == HubErrorKind.NetworkUnavailable && cachedComplete)
        {
            string snapshot = cache.SnapshotFolder(cachedCommit!);
            _logger.NetworkFallback(snapshot, ex.Message);
            return snapshot;
        }

        _logger.ResolvedCommit(reference.RepoId, reference.Revision, listing.Commit);
        await DownloadSnapshotAsync(reference, listing, cache, options, progress, cancellationToken).ConfigureAwait(false);
        if (!reference.IsCommitHash)
        {
            cache.WriteRef(reference.Revision, listing.Commit);
        }

        return cache.SnapshotFolder(listing.Commit);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposeHttpClient)
        {
            _httpClient.Dispose();
        }
    }

    private static HubException OfflineError(HubRepoReference reference, HubCache cache, string? commit, IReadOnlyList<string> missing)
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

    private async Task DownloadSnapshotAsync(HubRepoReference reference, RepoListing listing, HubCache cache, HubOptions options, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var context = new RequestContext(reference, listing.Commit, cache, options);
        var repoFiles = new HashSet<string>(listing.Files, StringComparer.Ordinal);
        if (!repoFiles.Contains(HubFileSelection.ConfigFile))
        {
            throw context.Error(HubErrorKind.FileNotFound, $"'{reference}' has no config.json at its root; it is not a transformers model repository.", HubFileSelection.ConfigFile);
        }

        var files = new List<string>(HubFileSelection.SelectSmallFiles(repoFiles));
        if (repoFiles.Contains(HubFileSelection.WeightsIndexFile))
        {
            await FetchFilesAsync(context, [HubFileSelection.WeightsIndexFile], progress, cancellationToken).ConfigureAwait(false);
            string indexPath = cache.SnapshotFile(listing.Commit, HubFileSelection.WeightsIndexFile);
            IReadOnlyList<string> shards;
            try
            {
                shards = HubFileSelection.ShardsFromIndex(await File.ReadAllTextAsync(indexPath, cancellationToken).ConfigureAwait(false));
            }
            catch (JsonException ex)
            {
                throw context.Error(HubErrorKind.UnexpectedResponse, $"{HubFileSelection.WeightsIndexFile} of '{reference}' is not valid JSON: {ex.Message}", HubFileSelection.WeightsIndexFile, ex);
            }

            string? absent = shards.FirstOrDefault(shard => !repoFiles.Contains(shard));
            if (absent is not null)
            {
                throw context.Error(HubErrorKind.FileNotFound, $"{HubFileSelection.WeightsIndexFile} of '{reference}' names the shard '{absent}', which is not in the repository.", absent);
            }

            files.AddRange(shards);
        }
        else if (repoFiles.Contains(HubFileSelection.WeightsFile))
        {
            files.Add(HubFileSelection.WeightsFile);
        }
        else
        {
            IReadOnlyList<string> safetensors = HubFileSelection.RootSafetensors(repoFiles);
            if (safetensors.Count == 0)
            {
                throw context.Error(HubErrorKind.FileNotFound, $"'{reference}' has no .safetensors weights at its root (.bin, GGUF and ONNX weights are not supported).", HubFileSelection.WeightsFile);
            }

            files.AddRange(safetensors);
        }

        await FetchFilesAsync(context, files, progress, cancellationToken).ConfigureAwait(false);
    }

    private async Task FetchFilesAsync(RequestContext context, IReadOnlyList<string> files, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string commit = context.Commit;
        List<string> absent = files.Where(file => !context.Cache.HasSnapshotFile(commit, file)).Distinct(StringComparer.Ordinal).ToList();
        if (absent.Count == 0)
        {
            return;
        }

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = context.Options.MaxParallelDownloads, CancellationToken = cancellationToken };
        var metadata = new FileMetadata[absent.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, absent.Count), parallel, async (i, token) =>
            metadata[i] = await GetMetadataAsync(context, absent[i], token).ConfigureAwait(false)).ConfigureAwait(false);

        var downloads = new List<FileMetadata>();
        foreach (FileMetadata file in metadata)
        {
            string blob = context.Cache.BlobPath(file.BlobName);
            if (File.Exists(blob))
            {
                _logger.BlobCached(file.File, file.BlobName);
                context.Cache.LinkSnapshotFile(commit, file.File, blob);
            }
            else
            {
                downloads.Add(file);
            }
        }

        if (downloads.Count == 0)
        {
            return;
        }

        downloads.Sort((a, b) => (b.Size ?? 0).CompareTo(a.Size ?? 0));
        var tracker = new DownloadTracker(progress, context.Reference.RepoId, downloads.Count, downloads.Sum(d => d.Size ?? 0));
        Directory.CreateDirectory(context.Cache.BlobsFolder);
        await Parallel.ForEachAsync(downloads, parallel, async (file, token) =>
            await DownloadFileAsync(context, file, tracker.ForFile(file.File, file.Size), token).ConfigureAwait(false)).ConfigureAwait(false);
    }

    private async Task<RepoListing> GetListingAsync(HubRepoReference reference, HubOptions options, CancellationToken cancellationToken)
    {
        var context = new RequestContext(reference, null, null, options);
        Uri uri = EndpointUri(options.Endpoint, $"api/models/{reference.RepoId}/revision/{Uri.EscapeDataString(reference.Revision)}");
        using HttpResponseMessage response = await SendAsync(context, HttpMethod.Get, uri, null, null, null, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw HttpError(context, response, file: null);
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
                byte[] json = await ReadBoundedAsync(body, MaxModelInfoBytes, deadline.Token).ConfigureAwait(false)
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
            throw NetworkError(context, uri, ex);
        }
        catch (HttpRequestException ex)
        {
            throw NetworkError(context, uri, ex);
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

            return new RepoListing(sha, files);
        }
    }

    /// <summary>Reads a whole body of at most <paramref name="limit"/> bytes; null when it is longer (reading stops at the limit).</summary>
    private static async Task<byte[]?> ReadBoundedAsync(Stream body, int limit, CancellationToken cancellationToken)
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

    private async Task<FileMetadata> GetMetadataAsync(RequestContext context, string file, CancellationToken cancellationToken)
    {
        Uri uri = ResolveUri(context, file);
        using HttpResponseMessage response = await SendAsync(context, HttpMethod.Head, uri, null, file, HasFileMetadata, cancellationToken).ConfigureAwait(false);
        bool redirect = IsRedirect(response.StatusCode);
        if (!response.IsSuccessStatusCode && !redirect)
        {
            throw HttpError(context, response, file);
        }

        string? linkedEtag = NormalizeEtag(Header(response, "X-Linked-Etag"));
        string? etag = linkedEtag ?? NormalizeEtag(Header(response, "ETag"));
        if (etag is null || !IsSafeBlobName(etag))
        {
            throw context.Error(HubErrorKind.UnexpectedResponse, $"The hub answered for '{file}' without a usable ETag ('{etag}'); the endpoint may not be a Hugging Face hub.", file);
        }

        long? size = ParseLong(Header(response, "X-Linked-Size")) ?? (redirect ? null : response.Content.Headers.ContentLength);
        string? sha256 = linkedEtag is { Length: 64 } && linkedEtag.All(char.IsAsciiHexDigit) ? linkedEtag.ToLowerInvariant() : null;
        Uri target = response.RequestMessage?.RequestUri ?? uri;
        if (redirect)
        {
            Uri location = response.Headers.Location
                ?? throw context.Error(HubErrorKind.UnexpectedResponse, $"The hub redirected '{file}' without a Location.", file);
            target = location.IsAbsoluteUri ? location : new Uri(target, location);
            CheckRedirect(context, uri, target, file);
        }

        return new FileMetadata(file, linkedEtag is null ? etag : etag.ToLowerInvariant(), sha256, size, target);
    }

    private async Task DownloadFileAsync(RequestContext context, FileMetadata file, DownloadTracker.FileTracker tracker, CancellationToken cancellationToken)
    {
        string blob = context.Cache.BlobPath(file.BlobName);
        FileStream fileLock = await AcquireLockAsync(context.Cache.LockPath(file.BlobName), cancellationToken).ConfigureAwait(false);
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

    private async Task TransferAsync(RequestContext context, FileMetadata file, string incomplete, DownloadTracker.FileTracker tracker, CancellationToken cancellationToken)
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
            using HttpResponseMessage response = await SendAsync(context, HttpMethod.Get, file.DownloadUri, existing > 0 ? existing : null, file.File, null, cancellationToken).ConfigureAwait(false);
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
                throw HttpError(context, response, file.File);
            }

            tracker.SetOnDisk(existing);
            try
            {
                var stream = new FileStream(incomplete, existing > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
                await using (stream.ConfigureAwait(false))
                {
                    Stream target = BlobStreamWrapper?.Invoke(stream) ?? stream;
                    Stream body;
                    try
                    {
                        body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (IOException ex)
                    {
                        throw Interrupted(context, file, ex);
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
            string actual = await Sha256Async(incomplete, cancellationToken).ConfigureAwait(false);
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

    private static async Task CopyAsync(RequestContext context, FileMetadata file, Stream body, Stream target, DownloadTracker.FileTracker tracker, long maxBytes, CancellationToken cancellationToken)
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
                    throw Interrupted(context, file, ex);
                }
                catch (HttpRequestException ex)
                {
                    throw Interrupted(context, file, ex);
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
                catch (IOException ex) when (IsDiskFull(ex))
                {
                    throw DiskFullError(context, file, ex);
                }

                tracker.Transferred(read);
            }

            try
            {
                await target.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex) when (IsDiskFull(ex))
            {
                throw DiskFullError(context, file, ex);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(
        RequestContext context,
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
                throw NetworkError(context, uri, ex, file);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw NetworkError(context, uri, ex, file);
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
    private static void CheckRedirect(RequestContext context, Uri from, Uri to, string? file)
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

    private async Task<FileStream> AcquireLockAsync(string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                // FileShare.None takes an exclusive flock on Unix, the same lock Python's filelock takes, so a .NET
                // and a Python process never write the same blob at once. Waits as long as the other download runs.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                if (attempt == 10)
                {
                    _logger.WaitingForLock(path);
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            byte[] hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            return Convert.ToHexStringLower(hash);
        }
    }

    private static HubException HttpError(RequestContext context, HttpResponseMessage response, string? file)
    {
        HubRepoReference reference = context.Reference;
        Uri endpoint = context.Options.Endpoint;
        string host = endpoint.GetLeftPart(UriPartial.Authority);
        int status = (int)response.StatusCode;
        string? code = Header(response, "X-Error-Code");
        string? serverMessage = Header(response, "X-Error-Message");
        string server = serverMessage is null ? string.Empty : $" The server said: {serverMessage}";
        string repoUrl = EndpointUri(endpoint, reference.RepoId).ToString();
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

    private static string RepoNotFoundMessage(RequestContext context, int status)
    {
        HubRepoReference reference = context.Reference;
        string host = context.Options.Endpoint.GetLeftPart(UriPartial.Authority);
        return $"Repository not found: '{reference.RepoId}' (revision '{reference.Revision}') does not exist on {host} (HTTP {status}), or it is private. " +
               "Check the id and the revision; for a private repository, set HF_TOKEN to a token that can read it.";
    }

    private static string AccessDeniedMessage(RequestContext context, int status, string repoUrl, bool gated)
    {
        string host = context.Options.Endpoint.GetLeftPart(UriPartial.Authority);
        string kind = gated ? "is gated" : "is gated or private";
        string token = context.Options.Token is null
            ? $"No token was sent: create a read token at {host}/settings/tokens and put it in the HF_TOKEN environment variable. "
            : "The token in HF_TOKEN was not accepted: check that it is valid and may read this repository. ";
        return $"Access to '{context.Reference.RepoId}' was refused by {host} (HTTP {status}): the model {kind}. {token}" +
               $"For a gated model, also accept its terms of use at {repoUrl} while logged in with the token's account.";
    }

    private static HubException NetworkError(RequestContext context, Uri uri, Exception ex, string? file = null)
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

    private static HubException Interrupted(RequestContext context, FileMetadata file, Exception ex) =>
        context.Error(
            HubErrorKind.TransferInterrupted,
            $"The transfer of '{file.File}' was interrupted ({ex.Message}); the partial file is kept and the next attempt resumes it.",
            file.File,
            ex);

    private static HubException DiskFullError(RequestContext context, FileMetadata file, IOException ex) =>
        context.Error(
            HubErrorKind.DiskFull,
            $"The disk holding the hub cache {context.CacheOrNull?.CacheDirectory} is full while downloading '{file.File}' ({file.Size} bytes). " +
            "Free some space (or set HF_HUB_CACHE to a larger disk) and run again: the partial download is kept and resumed.",
            file.File,
            ex);

    internal static bool IsDiskFull(IOException ex)
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

    private static bool HasFileMetadata(HttpResponseMessage response) =>
        Header(response, "X-Linked-Etag") is not null || (Header(response, "ETag") is not null && Header(response, "X-Repo-Commit") is not null);

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static bool SameHost(Uri uri, Uri endpoint) =>
        string.Equals(uri.IdnHost, endpoint.IdnHost, StringComparison.OrdinalIgnoreCase) && uri.Port == endpoint.Port;

    private static string? Header(HttpResponseMessage response, string name)
    {
        if (response.Headers.TryGetValues(name, out IEnumerable<string>? values) ||
            response.Content.Headers.TryGetValues(name, out values))
        {
            return values.FirstOrDefault();
        }

        return null;
    }

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

    private static Uri EndpointUri(Uri endpoint, string relative) =>
        new(endpoint.AbsoluteUri.TrimEnd('/') + "/" + relative);

    private static Uri ResolveUri(RequestContext context, string file) =>
        EndpointUri(
            context.Options.Endpoint,
            $"{context.Reference.RepoId}/resolve/{context.Commit}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");

    private sealed record RepoListing(string Commit, IReadOnlyList<string> Files);

    private sealed record FileMetadata(string File, string BlobName, string? Sha256, long? Size, Uri DownloadUri);

    private sealed record RequestContext(HubRepoReference Reference, string? CommitOrNull, HubCache? CacheOrNull, HubOptions Options)
    {
        public string Commit => CommitOrNull ?? throw new InvalidOperationException("No commit yet.");

        public HubCache Cache => CacheOrNull ?? throw new InvalidOperationException("No cache.");

        public HubException Error(HubErrorKind kind, string message, string? file = null, Exception? inner = null) =>
            new(kind, message, inner)
            {
                RepoId = Reference.RepoId,
                Revision = Reference.Revision,
                FileName = file,
            };
    }
}
