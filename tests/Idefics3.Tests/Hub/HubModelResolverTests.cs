using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Idefics3.Hub;

namespace Idefics3.Tests.Hub;

public sealed class HubModelResolverTests : IAsyncLifetime, IDisposable
{
    private const string RepoId = "test-org/tiny-vlm";
    private static readonly TimeSpan _testTimeout = TimeSpan.FromSeconds(15);

    private readonly HubEmulator _hub = HubEmulator.Start();
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "idefics3-hub-tests", Guid.NewGuid().ToString("N"));
    private readonly HubModelResolver _resolver = new();
    private readonly CancellationTokenSource _timeout = new(_testTimeout);

    private static readonly byte[] _weights = HubEmulator.RandomBytes(8 * 1024, seed: 1);

    private static readonly Dictionary<string, byte[]> _files = new()
    {
        ["config.json"] = Encoding.UTF8.GetBytes("{\"model_type\":\"idefics3\"}"),
        ["tokenizer.json"] = Encoding.UTF8.GetBytes("{\"version\":\"1.0\"}"),
        ["tokenizer_config.json"] = Encoding.UTF8.GetBytes("{}"),
        ["preprocessor_config.json"] = Encoding.UTF8.GetBytes("{\"image_processor_type\":\"Idefics3ImageProcessor\"}"),
        ["model.safetensors"] = _weights,
        ["README.md"] = Encoding.UTF8.GetBytes("# tiny"),
        ["pytorch_model.bin"] = HubEmulator.RandomBytes(512, seed: 2),
        ["onnx/vision_encoder.onnx"] = HubEmulator.RandomBytes(512, seed: 3),
        ["images/demo.png"] = HubEmulator.RandomBytes(256, seed: 4),
    };

    private static readonly string[] _expectedFiles =
        ["config.json", "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json", "model.safetensors"];

    private CancellationToken Timeout => _timeout.Token;

    private string RepoFolder => Path.Combine(_cache, "models--test-org--tiny-vlm");

    public Task InitializeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _resolver.Dispose();
        _timeout.Dispose();
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        if (Directory.Exists(_cache))
        {
            Directory.Delete(_cache, recursive: true);
        }
    }

    private HubOptions Options(string? token = null, bool offline = false, int maxResumeAttempts = 3, Uri? endpoint = null, bool checkForUpdates = false) => new()
    {
        CacheDirectory = _cache,
        Endpoint = endpoint ?? _hub.Endpoint,
        Token = token,
        Offline = offline,
        CheckForUpdates = checkForUpdates,
        MaxResumeAttempts = maxResumeAttempts,
        ReadTimeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task Fresh_download_creates_the_huggingface_hub_cache_layout()
    {
        HubEmulator.FakeRepo repo = _hub.AddRepo(RepoId, _files);
        var progress = new RecordingProgress();

        string snapshot = await _resolver.ResolveAsync(RepoId, Options(), progress, Timeout);

        Assert.Equal(Path.Combine(RepoFolder, "snapshots", repo.Commit), snapshot);
        Assert.Equal(repo.Commit, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")));
        foreach (string file in _expectedFiles)
        {
            string path = Path.Combine(snapshot, file);
            Assert.Equal(_files[file], File.ReadAllBytes(path));
            if (!OperatingSystem.IsWindows())
            {
                Assert.StartsWith("../../blobs/", new FileInfo(path).LinkTarget);
            }
        }

        // LFS blobs are named by SHA-256, other files by their git blob id (the hub's ETag).
        Assert.True(File.Exists(Path.Combine(RepoFolder, "blobs", HubEmulator.Sha256Hex(_weights))));
        Assert.True(File.Exists(Path.Combine(RepoFolder, "blobs", HubEmulator.GitBlobSha1(_files["config.json"]))));
        Assert.Equal(_expectedFiles.Length, Directory.GetFiles(Path.Combine(RepoFolder, "blobs")).Length);

        // README, .bin, onnx/ and images are not what the model needs.
        Assert.Equal(_expectedFiles.Order(), Directory.GetFileSystemEntries(snapshot).Select(Path.GetFileName).Order()!);
        Assert.DoesNotContain(_hub.RequestsTo("/test-org/tiny-vlm/resolve/"), r => r.Path.EndsWith(".bin", StringComparison.Ordinal) || r.Path.Contains("onnx", StringComparison.Ordinal));

        DownloadProgress last = progress.Reports.Last(r => r.FileName == "model.safetensors");
        Assert.True(last.IsFileComplete);
        Assert.Equal(_weights.Length, last.FileBytesDownloaded);
        Assert.Equal(_weights.Length, last.FileTotalBytes);
        long expectedTotal = _expectedFiles.Sum(f => (long)_files[f].Length);
        Assert.All(progress.Reports, r => Assert.Equal(expectedTotal, r.TotalBytes));
        Assert.Equal(expectedTotal, progress.Reports.Max(r => r.TotalBytesDownloaded));
        Assert.Contains(progress.Reports, r => r.FilesCompleted == _expectedFiles.Length && r.FileCount == _expectedFiles.Length);
    }

    [Fact]
    public async Task Second_resolve_is_a_cache_hit_that_sends_no_http_request()
    {
        _hub.AddRepo(RepoId, _files);
        string first = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);
        int requests = _hub.Requests.Count;

        string second = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);

        Assert.Equal(first, second);
        Assert.Equal(requests, _hub.Requests.Count);
    }

    [Fact]
    public async Task Cached_commit_hash_revision_resolves_without_refs_or_network()
    {
        HubEmulator.FakeRepo repo = _hub.AddRepo(RepoId, _files);
        await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);
        File.Delete(Path.Combine(RepoFolder, "refs", "main"));

        string snapshot = await _resolver.ResolveAsync($"{RepoId}@{repo.Commit}", Options(endpoint: ClosedPortEndpoint()), null, Timeout);

        Assert.EndsWith(repo.Commit, snapshot, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tag_revision_is_downloaded_and_recorded_under_refs()
    {
        HubEmulator.FakeRepo repo = _hub.AddRepo(RepoId, _files).WithRef("v1.0");

        string snapshot = await _resolver.ResolveAsync(RepoId + "@v1.0", Options(), null, Timeout);

        Assert.EndsWith(repo.Commit, snapshot, StringComparison.Ordinal);
        Assert.Equal(repo.Commit, File.ReadAllText(Path.Combine(RepoFolder, "refs", "v1.0")));
    }

    [Fact]
    public async Task Check_for_updates_asks_the_hub_for_the_commit_but_downloads_nothing_already_cached()
    {
        _hub.AddRepo(RepoId, _files);
        string first = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);
        int requests = _hub.Requests.Count;

        string second = await _resolver.ResolveAsync(RepoId, Options(checkForUpdates: true), null, Timeout);

        Assert.Equal(first, second);
        HubEmulator.RecordedRequest only = Assert.Single(_hub.Requests.Skip(requests));
        Assert.StartsWith("/api/models/test-org/tiny-vlm/revision/main", only.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_for_updates_falls_back_to_the_cached_snapshot_when_the_hub_is_unreachable()
    {
        _hub.AddRepo(RepoId, _files);
        string first = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);

        string second = await _resolver.ResolveAsync(RepoId, Options(endpoint: ClosedPortEndpoint(), checkForUpdates: true), null, Timeout);

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Blob_already_in_the_cache_is_linked_without_downloading_it_again()
    {
        _hub.AddRepo(RepoId, _files);
        string snapshot = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);
        File.Delete(Path.Combine(snapshot, "model.safetensors"));
        int cdnRequests = _hub.RequestsTo("/cdn/").Count;

        await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);

        Assert.Equal(cdnRequests, _hub.RequestsTo("/cdn/").Count);
        Assert.Equal(_weights, File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors")));
    }

    [Fact]
    public async Task Offline_mode_uses_the_cache_without_network()
    {
        _hub.AddRepo(RepoId, _files);
        string online = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);

        string offline = await _resolver.ResolveAsync(RepoId, Options(offline: true, endpoint: ClosedPortEndpoint()), null, Timeout);

        Assert.Equal(online, offline);
    }

    [Fact]
    public async Task Offline_mode_without_the_model_in_cache_fails_with_a_clear_error()
    {
        _hub.AddRepo(RepoId, _files);

        var ex = await Assert.ThrowsAsync<HubException>(() => _resolver.ResolveAsync(RepoId, Options(offline: true), null, Timeout));

        Assert.Equal(HubErrorKind.OfflineNotCached, ex.Kind);
        Assert.Contains("HF_HUB_OFFLINE", ex.Message, StringComparison.Ordinal);
        Assert.Contains("refs/main", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_hub.Requests);
    }

    [Fact]
    public async Task Interrupted_transfer_keeps_the_partial_file_and_the_next_call_resumes_it_with_a_range_request()
    {
        _hub.AddRepo(RepoId, _files);
        _hub.InterruptAfterBytes = 3000;
        _hub.InterruptTransfers(1);

        var ex = await Assert.ThrowsAsync<HubException>(() => _resolver.ResolveAsync(RepoId, Options(maxResumeAttempts: 0), null, Timeout));

        Assert.Equal(HubErrorKind.TransferInterrupted, ex.Kind);
        Assert.Equal("model.safetensors", ex.FileName);
        string blob = Path.Combine(RepoFolder, "blobs", HubEmulator.Sha256Hex(_weights));
        Assert.False(File.Exists(blob));
        Assert.Equal(3000, new FileInfo(blob + ".incomplete").Length);
        Assert.False(File.Exists(Path.Combine(RepoFolder, "refs", "main")));

        string snapshot = await _resolver.ResolveAsync(RepoId, Options(maxResumeAttempts: 0), null, Timeout);

        Assert.Equal("bytes=3000-", _hub.RequestsTo("/cdn/")[^1].Range);
        Assert.Equal(HubEmulator.Sha256Hex(_weights), HubEmulator.Sha256Hex(File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors"))));
        Assert.False(File.Exists(blob + ".incomplete"));
    }

    [Fact]
    public async Task Interrupted_transfer_is_resumed_within_the_same_call()
    {
        _hub.AddRepo(RepoId, _files);
        _hub.InterruptAfterBytes = 5000;
        _hub.InterruptTransfers(1);

        string snapshot = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);

        Assert.Equal(_weights, File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors")));
        Assert.Equal([null, "bytes=5000-"], _hub.RequestsTo("/cdn/").Select(r => r.Range));
    }

    [Fact]
    public async Task Server_that_ignores_the_range_request_makes_the_download_restart_from_zero()
    {
        _hub.AddRepo(RepoId, _files);
        _hub.IgnoreRange = true;
        _hub.InterruptAfterBytes = 2000;
        _hub.InterruptTransfers(1);

        string snapshot = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);

        Assert.Equal("bytes=2000-", _hub.RequestsTo("/cdn/")[^1].Range);
        Assert.Equal(_weights, File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors")));
    }

    [Fact]
    public async Task Download_server_error_is_retried_within_the_call()
    {
        _hub.AddRepo(RepoId, _files);
        _hub.FailTransfers(1);

        string snapshot = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);

        Assert.Equal(_weights, File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors")));
        Assert.Equal(2, _hub.RequestsTo("/cdn/").Count);
    }

    [Fact]
    public async Task Corrupted_download_fails_the_sha256_check_and_is_not_kept()
    {
        _hub.AddRepo(RepoId, _files);
        _hub.CorruptTransfers(1);

        var ex = await Assert.ThrowsAsync<HubException>(() => _resolver.ResolveAsync(RepoId, Options(), null, Timeout));

        Assert.Equal(HubErrorKind.IntegrityCheckFailed, ex.Kind);
        Assert.Contains(HubEmulator.Sha256Hex(_weights), ex.Message, StringComparison.Ordinal);
        string blob = Path.Combine(RepoFolder, "blobs", HubEmulator.Sha256Hex(_weights));
        Assert.False(File.Exists(blob));
        Assert.False(File.Exists(blob + ".incomplete"));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "refs", "main")));

        string snapshot = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);
        Assert.Equal(_weights, File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors")));
    }

    [Fact]
    public async Task Gated_repo_without_token_fails_with_access_denied_explaining_HF_TOKEN()
    {
        _hub.AddRepo(RepoId, _files, requiredToken: "hf_secret");

        var ex = await Assert.ThrowsAsync<HubException>(() => _resolver.ResolveAsync(RepoId, Options(), null, Timeout));

        Assert.Equal(HubErrorKind.AccessDenied, ex.Kind);
        Assert.Equal(401, ex.StatusCode);
        Assert.Contains("HF_TOKEN", ex.Message, StringComparison.Ordinal);
        Assert.Contains("accept its terms", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gated_repo_with_a_wrong_token_says_the_token_was_not_accepted()
    {
        _hub.AddRepo(RepoId, _files, requiredToken: "hf_secret");

        var ex = await Assert.ThrowsAsync<HubException>(() => _resolver.ResolveAsync(RepoId, Options(token: "hf_wrong"), null, Timeout));

        Assert.Equal(HubErrorKind.AccessDenied, ex.Kind);
        Assert.Contains("token in HF_TOKEN was not accepted", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_is_sent_as_bearer_to_the_hub_but_not_to_another_host_after_a_redirect()
    {
        _hub.AddRepo(RepoId, _files, requiredToken: "hf_secret");

        string snapshot = await _resolver.ResolveAsync(RepoId, Options(token: "hf_secret"), null, Timeout);

        Assert.True(File.Exists(Path.Combine(snapshot, "model.safetensors")));
        IReadOnlyList<HubEmulator.RecordedRequest> hubRequests = _hub.Requests.Where(r => !r.Path.StartsWith("/cdn/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(hubRequests);
        Assert.All(hubRequests, r => Assert.Equal("Bearer hf_secret", r.Authorization));
        IReadOnlyList<HubEmulator.RecordedRequest> cdnRequests = _hub.RequestsTo("/cdn/");
        Assert.NotEmpty(cdnRequests);
        Assert.All(cdnRequests, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task Unknown_repository_fails_with_repository_not_found()
    {
        var ex = await Assert.ThrowsAsync<HubException>(() => _resolver.ResolveAsync("test-org/missing", Options(), null, Timeout));

        Assert.Equal(HubErrorKind.RepositoryNotFound, ex.Kind);
        Assert.Equal(404, ex.StatusCode);
        Assert.Contains("repository not found", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Unknown_revision_fails_with_revision_not_found()
    {
        _hub.AddRepo(RepoId, _files);

        var ex = await Assert.ThrowsAsync<HubException>(() => _resolver.ResolveAsync(RepoId + "@no-such-branch", Options(), null, Timeout));

        Assert.Equal(HubErrorKind.RevisionNotFound, ex.Kind);
        Assert.Contains("no-such-branch", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_endpoint_fails_with_network_unavailable_naming_the_endpoint()
    {
        Uri endpoint = ClosedPortEndpoint();

        var ex = await Assert.ThrowsAsync<HubException>(() => _resolver.ResolveAsync(RepoId, Options(endpoint: endpoint), null, Timeout));

        Assert.Equal(HubErrorKind.NetworkUnavailable, ex.Kind);
        Assert.Contains($"127.0.0.1:{endpoint.Port}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("HF_HUB_OFFLINE", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Full_disk_fails_with_disk_full_and_keeps_the_partial_file_for_resume()
    {
        _hub.AddRepo(RepoId, _files);
        _resolver.BlobStreamWrapper = stream => new FullDiskStream(stream, capacity: 4096);

        var ex = await Assert.ThrowsAsync<HubException>(() => _resolver.ResolveAsync(RepoId, Options(), null, Timeout));

        Assert.Equal(HubErrorKind.DiskFull, ex.Kind);
        Assert.Contains("full", ex.Message, StringComparison.Ordinal);
        string blob = Path.Combine(RepoFolder, "blobs", HubEmulator.Sha256Hex(_weights));
        Assert.True(File.Exists(blob + ".incomplete"));
        Assert.False(File.Exists(blob));

        _resolver.BlobStreamWrapper = null;
        string snapshot = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);
        Assert.Equal(_weights, File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors")));
    }

    [Fact]
    public void Disk_full_is_recognised_from_a_real_ENOSPC_error()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/dev/full"))
        {
            return;
        }

        var ex = Assert.ThrowsAny<IOException>(() =>
        {
            using var stream = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1);
            stream.Write(new byte[16]);
        });

        Assert.True(HubErrors.IsDiskFull(ex), $"HResult {ex.HResult}: {ex.Message}");
        Assert.False(HubErrors.IsDiskFull(new IOException("other")));
    }

    [Fact]
    public async Task Sharded_weights_download_the_index_and_every_shard_it_names()
    {
        byte[] shard1 = HubEmulator.RandomBytes(3000, seed: 11);
        byte[] shard2 = HubEmulator.RandomBytes(2000, seed: 12);
        var files = new Dictionary<string, byte[]>
        {
            ["config.json"] = _files["config.json"],
            ["tokenizer.json"] = _files["tokenizer.json"],
            ["model.safetensors.index.json"] = Encoding.UTF8.GetBytes(
                "{\"metadata\":{},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\",\"c\":\"model-00001-of-00002.safetensors\"}}"),
            ["model-00001-of-00002.safetensors"] = shard1,
            ["model-00002-of-00002.safetensors"] = shard2,
            ["adapter.safetensors"] = HubEmulator.RandomBytes(100, seed: 13),
        };
        _hub.AddRepo(RepoId, files);

        string snapshot = await _resolver.ResolveAsync(RepoId, Options(), null, Timeout);

        Assert.Equal(shard1, File.ReadAllBytes(Path.Combine(snapshot, "model-00001-of-00002.safetensors")));
        Assert.Equal(shard2, File.ReadAllBytes(Path.Combine(snapshot, "model-00002-of-00002.safetensors")));
        Assert.False(File.Exists(Path.Combine(snapshot, "adapter.safetensors")));

        int requests = _hub.Requests.Count;
        Assert.Equal(snapshot, await _resolver.ResolveAsync(RepoId, Options(), null, Timeout));
        Assert.Equal(requests, _hub.Requests.Count);
    }

    [Fact]
    public async Task Existing_local_folder_is_returned_as_is_without_network()
    {
        Directory.CreateDirectory(_cache);

        string resolved = await _resolver.ResolveAsync(_cache, Options(endpoint: ClosedPortEndpoint()), null, Timeout);

        Assert.Equal(Path.GetFullPath(_cache), resolved);
        Assert.Empty(_hub.Requests);
    }

    [Theory]
    [InlineData("not a repo")]
    [InlineData("just-a-name")]
    [InlineData("org/name@")]
    [InlineData("org/na me")]
    public async Task Value_that_is_neither_a_folder_nor_a_repo_id_fails_with_invalid_model_id(string value)
    {
        var ex = await Assert.ThrowsAsync<HubException>(() => _resolver.ResolveAsync(value, Options(), null, Timeout));

        Assert.Equal(HubErrorKind.InvalidModelId, ex.Kind);
        Assert.Empty(_hub.Requests);
    }

    [Fact]
    public async Task Cancelled_token_stops_before_any_request()
    {
        _hub.AddRepo(RepoId, _files);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _resolver.ResolveAsync(RepoId, Options(), null, cancelled.Token));
        Assert.Empty(_hub.Requests);
    }

    /// <summary>An endpoint on 127.0.0.1 where nothing listens.</summary>
    private static Uri ClosedPortEndpoint()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}");
    }

    private sealed class RecordingProgress : IProgress<DownloadProgress>
    {
        private readonly ConcurrentQueue<DownloadProgress> _reports = new();

        public IReadOnlyList<DownloadProgress> Reports => _reports.ToList();

        public void Report(DownloadProgress value) => _reports.Enqueue(value);
    }

    /// <summary>Writes through until <c>capacity</c> bytes, then fails like a full disk (ENOSPC / ERROR_DISK_FULL).</summary>
    private sealed class FullDiskStream(Stream inner, long capacity) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            long room = capacity - _written;
            int accepted = (int)Math.Min(room, buffer.Length);
            await inner.WriteAsync(buffer[..accepted], cancellationToken);
            _written += accepted;
            if (accepted < buffer.Length)
            {
                throw new IOException("No space left on device", OperatingSystem.IsWindows() ? unchecked((int)0x80070070) : 28);
            }
        }
    }
}
