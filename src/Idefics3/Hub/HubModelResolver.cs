using System.Net;
using System.Net.Http.Headers;
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
    private readonly HubTransport _transport;
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
        _transport = new HubTransport(httpClient);
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
    internal async Task<string> ResolveAsync(
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
            throw HubErrors.OfflineError(reference, cache, cachedCommit, missing);
        }

        HubRepoListing listing;
        try
        {
            listing = await HubListingReader.ReadAsync(_transport, reference, options, cancellationToken).ConfigureAwait(false);
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
            _transport.HttpClient.Dispose();
        }
    }

    private async Task DownloadSnapshotAsync(HubRepoReference reference, HubRepoListing listing, HubCache cache, HubOptions options, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var context = new HubRequestContext(reference, listing.Commit, cache, options);
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

    private async Task FetchFilesAsync(HubRequestContext context, IReadOnlyList<string> files, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string commit = context.Commit;
        List<string> absent = files.Where(file => !context.Cache.HasSnapshotFile(commit, file)).Distinct(StringComparer.Ordinal).ToList();
        if (absent.Count == 0)
        {
            return;
        }

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = context.Options.MaxParallelDownloads, CancellationToken = cancellationToken };
        var metadata = new HubFileMetadata[absent.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, absent.Count), parallel, async (i, token) =>
            metadata[i] = await HubFileProbe.ProbeAsync(_transport, context, absent[i], token).ConfigureAwait(false)).ConfigureAwait(false);

        var downloads = new List<HubFileMetadata>();
        foreach (HubFileMetadata file in metadata)
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
        var downloader = new HubBlobDownloader(_transport, _logger, BlobStreamWrapper);
        await Parallel.ForEachAsync(downloads, parallel, async (file, token) =>
            await downloader.DownloadFileAsync(context, file, tracker.ForFile(file.File, file.Size), token).ConfigureAwait(false)).ConfigureAwait(false);
    }
}
