using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Idefics3.Tests.Hub;

/// <summary>
/// A tiny Hugging Face hub on 127.0.0.1 (ephemeral port) for tests: the model-info API, <c>resolve</c> URLs
/// (302 to a CDN URL for LFS files, 200 for small files), a CDN with range requests, gated repositories and
/// 404s with the hub's X-Error-Code headers, plus switches that interrupt or corrupt transfers.
/// One request per connection (Connection: close). Disposing stops the server.
/// </summary>
internal sealed class HubEmulator : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, FakeRepo> _repos = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _acceptLoop;
    private int _interruptsLeft;
    private int _corruptionsLeft;
    private int _failuresLeft;
    private long _hostileBytesSent;

    private HubEmulator()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary>The hub endpoint, http://127.0.0.1:port.</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    /// <summary>Host name used in CDN redirects; "localhost" makes it a different host from the endpoint.</summary>
    public string CdnHost { get; set; } = "localhost";

    /// <summary>Every request received, in order of arrival.</summary>
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>CDN responses cut the connection after this many body bytes while <see cref="InterruptTransfers"/> has interrupts left.</summary>
    public int InterruptAfterBytes { get; set; } = 1000;

    /// <summary>When true, the CDN ignores Range headers and always answers 200 with the whole file.</summary>
    public bool IgnoreRange { get; set; }

    /// <summary>
    /// A hostile override: called first for every request with (method, path, stream, cancellation); when it returns
    /// true the request is answered by it (raw bytes: endless bodies, wrong sizes, redirects, slow drips).
    /// </summary>
    public Func<string, string, NetworkStream, CancellationToken, Task<bool>>? Hostile { get; set; }

    /// <summary>Gets the bytes the hostile override wrote (it counts them with <see cref="CountHostileBytes"/>).</summary>
    public long HostileBytesSent => Interlocked.Read(ref _hostileBytesSent);

    /// <summary>Adds to <see cref="HostileBytesSent"/>.</summary>
    public void CountHostileBytes(long count) => Interlocked.Add(ref _hostileBytesSent, count);

    public static HubEmulator Start() => new();

    /// <summary>The next <paramref name="count"/> CDN transfers are cut after <see cref="InterruptAfterBytes"/> bytes.</summary>
    public void InterruptTransfers(int count) => Volatile.Write(ref _interruptsLeft, count);

    /// <summary>The next <paramref name="count"/> CDN transfers serve wrong bytes (same length).</summary>
    public void CorruptTransfers(int count) => Volatile.Write(ref _corruptionsLeft, count);

    /// <summary>The next <paramref name="count"/> CDN requests are answered 503 Service Unavailable.</summary>
    public void FailTransfers(int count) => Volatile.Write(ref _failuresLeft, count);

    public FakeRepo AddRepo(string id, IReadOnlyDictionary<string, byte[]> files, string? requiredToken = null)
    {
        var repo = new FakeRepo(id, files.ToDictionary(kv => kv.Key, kv => new FakeFile(kv.Value, IsLfsName(kv.Key)), StringComparer.Ordinal), requiredToken);
        repo.WithRef("main");
        _repos[id] = repo;
        return repo;
    }

    public List<RecordedRequest> RequestsTo(string pathPrefix) =>
        Requests.Where(r => r.Path.StartsWith(pathPrefix, StringComparison.Ordinal)).ToList();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop.WaitAsync(TimeSpan.FromSeconds(5));
            await Task.WhenAll(_connections).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or TimeoutException or IOException)
        {
            // Stopping: connections that were cut are expected.
        }

        _stop.Dispose();
    }

    public static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Sha256Hex(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>The git blob id of a file: SHA-1 of "blob {length}\0" + content, which the hub sends as ETag for non-LFS files.</summary>
    public static string GitBlobSha1(byte[] content)
    {
        byte[] header = Encoding.ASCII.GetBytes($"blob {content.Length}\0");
#pragma warning disable CA5350 // Git blob ids are SHA-1 by definition; this is not a security use.
        return Convert.ToHexStringLower(SHA1.HashData([.. header, .. content]));
#pragma warning restore CA5350
    }

    private static bool IsLfsName(string name) =>
        name.EndsWith(".safetensors", StringComparison.Ordinal) || name.EndsWith(".bin", StringComparison.Ordinal) ||
        name.EndsWith(".onnx", StringComparison.Ordinal) || name.EndsWith(".png", StringComparison.Ordinal);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException ||
                                       (ex is InvalidOperationException && _stop.IsCancellationRequested))
            {
                // Stopping: a listener stopped before this accept began says "Not listening".
                return;
            }

            _connections.Add(Task.Run(() => HandleConnectionAsync(client)));
        }
    }

    private async Task HandleConnectionAsync(TcpClient client)
    {
        using (client)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                NetworkStream stream = client.GetStream();
                Request? request = await ReadRequestAsync(stream, timeout.Token);
                if (request is not null)
                {
                    Requests.Enqueue(new RecordedRequest(request.Method, request.Path, request.Header("Authorization"), request.Header("Range"), request.Header("Host")));
                    await RespondAsync(stream, request, timeout.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away or the server is stopping.
            }
        }
    }

    private static async Task<Request?> ReadRequestAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                return null;
            }

            filled += read;
            string text = Encoding.ASCII.GetString(buffer, 0, filled);
            int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                string[] lines = text[..end].Split("\r\n");
                string[] first = lines[0].Split(' ');
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (string line in lines.Skip(1))
                {
                    int colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0)
                    {
                        headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                    }
                }

                return new Request(first[0], first[1], headers);
            }
        }

        return null;
    }

    private async Task RespondAsync(NetworkStream stream, Request request, CancellationToken cancellationToken)
    {
        if (Hostile is { } hostile && await hostile(request.Method, request.Path, stream, cancellationToken))
        {
            return;
        }

        string path = request.Path;
        int query = path.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            path = path[..query];
        }

        if (path.StartsWith("/api/models/", StringComparison.Ordinal))
        {
            await ModelInfoAsync(stream, request, path["/api/models/".Length..], cancellationToken);
        }
        else if (path.StartsWith("/cdn/", StringComparison.Ordinal))
        {
            await CdnAsync(stream, request, path["/cdn/".Length..], cancellationToken);
        }
        else if (path.Contains("/resolve/", StringComparison.Ordinal))
        {
            await ResolveAsync(stream, request, path[1..], cancellationToken);
        }
        else
        {
            await WriteAsync(stream, request, 404, [], [], cancellationToken);
        }
    }

    private async Task ModelInfoAsync(NetworkStream stream, Request request, string rest, CancellationToken cancellationToken)
    {
        int split = rest.IndexOf("/revision/", StringComparison.Ordinal);
        string repoId = split < 0 ? rest : rest[..split];
        string revision = split < 0 ? "main" : Uri.UnescapeDataString(rest[(split + "/revision/".Length)..]);
        (FakeRepo? repo, string? commit, int status, string? code) = Lookup(repoId, revision);
        if (repo is null || commit is null)
        {
            await WriteAsync(stream, request, status, [("X-Error-Code", code!)], Encoding.UTF8.GetBytes("{\"error\":\"not found\"}"), cancellationToken);
            return;
        }

        // Like the real hub, model info of a gated repository is public; its files are not.
        string json = JsonSerializer.Serialize(new
        {
            id = repo.Id,
            sha = commit,
            siblings = repo.Files.Keys.Order(StringComparer.Ordinal).Select(name => new { rfilename = name }),
        });
        await WriteAsync(stream, request, 200, [("Content-Type", "application/json")], Encoding.UTF8.GetBytes(json), cancellationToken);
    }

    private async Task ResolveAsync(NetworkStream stream, Request request, string rest, CancellationToken cancellationToken)
    {
        // {org}/{name}/resolve/{revision}/{file...}
        string[] parts = rest.Split('/');
        if (parts.Length < 5 || parts[2] != "resolve")
        {
            await WriteAsync(stream, request, 404, [("X-Error-Code", "EntryNotFound")], [], cancellationToken);
            return;
        }

        string repoId = parts[0] + "/" + parts[1];
        string revision = Uri.UnescapeDataString(parts[3]);
        string file = string.Join('/', parts.Skip(4).Select(Uri.UnescapeDataString));
        (FakeRepo? repo, string? commit, int status, string? code) = Lookup(repoId, revision);
        if (repo is null || commit is null)
        {
            await WriteAsync(stream, request, status, [("X-Error-Code", code!)], [], cancellationToken);
            return;
        }

        if (repo.RequiredToken is not null && request.Header("Authorization") != "Bearer " + repo.RequiredToken)
        {
            await WriteAsync(
                stream,
                request,
                401,
                [("X-Error-Code", "GatedRepo"), ("X-Error-Message", $"Access to model {repo.Id} is restricted.")],
                [],
                cancellationToken);
            return;
        }

        if (!repo.Files.TryGetValue(file, out FakeFile? fake))
        {
            await WriteAsync(stream, request, 404, [("X-Error-Code", "EntryNotFound")], [], cancellationToken);
            return;
        }

        if (fake.IsLfs)
        {
            await WriteAsync(
                stream,
                request,
                302,
                [
                    ("Location", $"http://{CdnHost}:{Port}/cdn/{fake.Sha256}?expires=1"),
                    ("X-Linked-Etag", $"\"{fake.Sha256}\""),
                    ("X-Linked-Size", fake.Content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    ("X-Repo-Commit", commit),
                    ("ETag", $"\"{fake.GitSha1}\""),
                ],
                [],
                cancellationToken);
            return;
        }

        await WriteAsync(stream, request, 200, [("ETag", $"\"{fake.GitSha1}\""), ("X-Repo-Commit", commit)], fake.Content, cancellationToken);
    }

    private async Task CdnAsync(NetworkStream stream, Request request, string sha256, CancellationToken cancellationToken)
    {
        FakeFile? fake = _repos.Values.SelectMany(r => r.Files.Values).FirstOrDefault(f => f.Sha256 == sha256);
        if (fake is null)
        {
            await WriteAsync(stream, request, 404, [], [], cancellationToken);
            return;
        }

        if (TakeOne(ref _failuresLeft))
        {
            await WriteAsync(stream, request, 503, [], [], cancellationToken);
            return;
        }

        byte[] content = fake.Content;
        if (TakeOne(ref _corruptionsLeft))
        {
            content = [.. content];
            for (int i = 0; i < content.Length; i += 7)
            {
                content[i] ^= 0x5A;
            }
        }

        long start = 0;
        string? range = request.Header("Range");
        if (range is not null && !IgnoreRange && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
        }

        if (start > content.Length)
        {
            await WriteAsync(stream, request, 416, [("Content-Range", $"bytes */{content.Length}")], [], cancellationToken);
            return;
        }

        byte[] body = content[(int)start..];
        var headers = new List<(string, string)> { ("ETag", $"\"{sha256}\"") };
        int status = 200;
        if (start > 0)
        {
            status = 206;
            headers.Add(("Content-Range", $"bytes {start}-{content.Length - 1}/{content.Length}"));
        }

        int? cut = TakeOne(ref _interruptsLeft) ? Math.Min(InterruptAfterBytes, body.Length) : null;
        await WriteAsync(stream, request, status, headers, body, cancellationToken, cut);
    }

    private (FakeRepo? Repo, string? Commit, int Status, string? Code) Lookup(string repoId, string revision)
    {
        if (!_repos.TryGetValue(repoId, out FakeRepo? repo))
        {
            return (null, null, 404, "RepoNotFound");
        }

        if (revision == repo.Commit || repo.Refs.TryGetValue(revision, out _))
        {
            return (repo, revision == repo.Commit ? repo.Commit : repo.Refs[revision], 200, null);
        }

        return (repo, null, 404, "RevisionNotFound");
    }

    private static bool TakeOne(ref int counter)
    {
        while (true)
        {
            int current = Volatile.Read(ref counter);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref counter, current - 1, current) == current)
            {
                return true;
            }
        }
    }

    private static async Task WriteAsync(
        NetworkStream stream,
        Request request,
        int status,
        IReadOnlyList<(string Name, string Value)> headers,
        byte[] body,
        CancellationToken cancellationToken,
        int? cutAfter = null)
    {
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(status).Append(' ').Append(Reason(status)).Append("\r\n");
        foreach ((string name, string value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        head.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), cancellationToken);
        if (request.Method != "HEAD")
        {
            await stream.WriteAsync(body.AsMemory(0, cutAfter ?? body.Length), cancellationToken);
        }

        await stream.FlushAsync(cancellationToken);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        401 => "Unauthorized",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        _ => "Status",
    };

    internal sealed record RecordedRequest(string Method, string Path, string? Authorization, string? Range, string? Host);

    private sealed record Request(string Method, string Path, Dictionary<string, string> Headers)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out string? value) ? value : null;
    }

    internal sealed class FakeFile(byte[] content, bool isLfs)
    {
        public byte[] Content { get; } = content;

        public bool IsLfs { get; } = isLfs;

        public string Sha256 { get; } = Sha256Hex(content);

        public string GitSha1 { get; } = GitBlobSha1(content);
    }

    internal sealed class FakeRepo(string id, Dictionary<string, FakeFile> files, string? requiredToken)
    {
        public string Id { get; } = id;

        public Dictionary<string, FakeFile> Files { get; } = files;

        public string? RequiredToken { get; } = requiredToken;

        public string Commit { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id + Guid.NewGuid())))[..40];

        /// <summary>Branches and tags; "main" points at <see cref="Commit"/>.</summary>
        public Dictionary<string, string> Refs { get; } = new(StringComparer.Ordinal);

        public FakeRepo WithRef(string name)
        {
            Refs[name] = Commit;
            return this;
        }
    }
}
