using System.Net.Sockets;
using System.Text;
using Idefics3.Hub;
using Idefics3.Tests.Hub;
using Xunit.Abstractions;

namespace Idefics3.Tests.Campaign;

/// <summary>
/// A misbehaving hub on 127.0.0.1 (the local hub emulator with a hostile override): endless and oversized bodies,
/// bodies longer or shorter than declared, slow drips, redirects to other schemes and to internal hosts, garbage JSON.
/// Every case must end in a <see cref="HubException"/> (with the cause as InnerException where there is one), stop
/// reading early, and stay within its time and memory bounds.
/// </summary>
[Collection(CampaignGroup.Name)]
public sealed class HostileHubCampaign : IAsyncLifetime
{
    private const string RepoId = "evil-org/tiny";
    private static readonly byte[] _weights = HubEmulator.RandomBytes(8 * 1024, seed: 7);

    private readonly CampaignProbe _probe;
    private readonly HubEmulator _hub = HubEmulator.Start();
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "idefics3-campaign-hub", Guid.NewGuid().ToString("N"));

    public HostileHubCampaign(ITestOutputHelper output) => _probe = new CampaignProbe(output);

    internal delegate Task<bool> Hostility(HubEmulator hub, string method, string path, NetworkStream stream, CancellationToken cancellationToken);

    public static TheoryData<string> Cases() => new(HostileCases.Keys);

    private static Dictionary<string, Hostility> HostileCases { get; } = new(StringComparer.Ordinal)
    {
        ["model info: endless body without a length"] = (hub, m, p, s, ct) => When(p.StartsWith("/api/models/", StringComparison.Ordinal), () => Endless(hub, s, "200 OK", [], ct)),
        ["model info: declares 10 GB"] = (hub, m, p, s, ct) => When(p.StartsWith("/api/models/", StringComparison.Ordinal), () => Endless(hub, s, "200 OK", [("Content-Length", "10000000000")], ct)),
        ["model info: slow drip, one byte per 50 ms"] = (hub, m, p, s, ct) => When(p.StartsWith("/api/models/", StringComparison.Ordinal), () => Drip(hub, s, [], ct)),
        ["model info: random bytes"] = (hub, m, p, s, ct) => When(p.StartsWith("/api/models/", StringComparison.Ordinal), () => Body(hub, s, "200 OK", HubEmulator.RandomBytes(5000, 3), ct)),
        ["model info: 100,000 nested arrays"] = (hub, m, p, s, ct) => When(p.StartsWith("/api/models/", StringComparison.Ordinal), () => Body(hub, s, "200 OK", Encoding.ASCII.GetBytes(new string('[', 100_000)), ct)),
        ["model info: JSON without a commit"] = (hub, m, p, s, ct) => When(p.StartsWith("/api/models/", StringComparison.Ordinal), () => Body(hub, s, "200 OK", "{\"sha\":\"../../etc\",\"siblings\":[]}"u8.ToArray(), ct)),
        ["model info: redirect to file:///etc/passwd"] = (hub, m, p, s, ct) => When(p.StartsWith("/api/models/", StringComparison.Ordinal), () => Head(hub, s, "302 Found", [("Location", "file:///etc/passwd")], ct)),
        ["model info: redirect to ftp://"] = (hub, m, p, s, ct) => When(p.StartsWith("/api/models/", StringComparison.Ordinal), () => Head(hub, s, "301 Moved Permanently", [("Location", "ftp://127.0.0.1/x")], ct)),
        ["model info: redirect to 169.254.169.254"] = (hub, m, p, s, ct) => When(p.StartsWith("/api/models/", StringComparison.Ordinal), () => Head(hub, s, "302 Found", [("Location", "http://169.254.169.254/latest/meta-data/")], ct)),
        ["model info: redirect loop"] = (hub, m, p, s, ct) => When(p.StartsWith("/api/models/", StringComparison.Ordinal), () => Head(hub, s, "302 Found", [("Location", p)], ct)),
        ["file: config.json redirects to file:///etc/passwd"] = (hub, m, p, s, ct) => When(p.Contains("/resolve/", StringComparison.Ordinal) && p.EndsWith("config.json", StringComparison.Ordinal), () => Head(hub, s, "302 Found", [("Location", "file:///etc/passwd")], ct)),
        ["file: weights redirect to 169.254.169.254"] = (hub, m, p, s, ct) => When(p.Contains("/resolve/", StringComparison.Ordinal) && p.EndsWith(".safetensors", StringComparison.Ordinal), () => Head(hub, s, "302 Found", [("Location", "http://169.254.169.254/cdn/x")], ct)),
        ["file: weights (8 KB declared) endless without a length"] = (hub, m, p, s, ct) => When(m == "GET" && p.StartsWith("/cdn/", StringComparison.Ordinal), () => Endless(hub, s, "200 OK", [], ct)),
        ["file: weights (8 KB declared) sent with Content-Length 300 MB"] = (hub, m, p, s, ct) => When(m == "GET" && p.StartsWith("/cdn/", StringComparison.Ordinal), () => Endless(hub, s, "200 OK", [("Content-Length", "314572800")], ct)),
        ["file: weights end after half"] = (hub, m, p, s, ct) => When(m == "GET" && p.StartsWith("/cdn/", StringComparison.Ordinal), () => Body(hub, s, "200 OK", _weights[..4096], ct, declared: _weights.Length)),
        ["file: weights slow drip, one byte per 50 ms"] = (hub, m, p, s, ct) => When(m == "GET" && p.StartsWith("/cdn/", StringComparison.Ordinal), () => Drip(hub, s, [("Content-Length", _weights.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))], ct)),
        ["file: weights wrong bytes"] = (hub, m, p, s, ct) => When(m == "GET" && p.StartsWith("/cdn/", StringComparison.Ordinal), () => Body(hub, s, "200 OK", HubEmulator.RandomBytes(_weights.Length, 9), ct)),
        ["file: server error forever"] = (hub, m, p, s, ct) => When(m == "GET" && p.StartsWith("/cdn/", StringComparison.Ordinal), () => Head(hub, s, "503 Service Unavailable", [("Content-Length", "0")], ct)),
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        if (Directory.Exists(_cache))
        {
            Directory.Delete(_cache, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_hostile_hub_gives_a_HubException_early(string name)
    {
        _hub.AddRepo(RepoId, new Dictionary<string, byte[]>
        {
            ["config.json"] = "{\"model_type\":\"idefics3\"}"u8.ToArray(),
            ["tokenizer.json"] = "{}"u8.ToArray(),
            ["model.safetensors"] = _weights,
        });
        Hostility hostility = HostileCases[name];
        _hub.Hostile = (method, path, stream, ct) => hostility(_hub, method, path, stream, ct);
        using var resolver = new HubModelResolver();
        var options = new HubOptions
        {
            CacheDirectory = _cache,
            Endpoint = _hub.Endpoint,
            MaxResumeAttempts = 0,
            ReadTimeout = TimeSpan.FromSeconds(1),
        };

        Exception? error = await _probe.RunAsync(name, () => resolver.ResolveAsync(RepoId, options, null, CancellationToken.None), maxSeconds: 15, maxGrowthMb: 300, typeof(HubException));

        HubException hubError = Assert.IsType<HubException>(error);
        if (name.Contains("redirect", StringComparison.Ordinal))
        {
            Assert.Contains("redirect", hubError.Message, StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain("root:", hubError.ToString(), StringComparison.Ordinal); // nothing of /etc/passwd leaks
        if (name.Contains("8 KB declared", StringComparison.Ordinal))
        {
            // Reading stopped near the declared size, not after the whole hostile body.
            Assert.True(_hub.HostileBytesSent < 64L * 1024 * 1024, $"the server sent {_hub.HostileBytesSent} bytes before the client stopped");
        }

        Assert.Empty(Directory.Exists(_cache) ? Directory.GetFiles(_cache, "*.safetensors", SearchOption.AllDirectories).Where(f => new FileInfo(f).Length > _weights.Length) : []);
    }

    private static async Task<bool> When(bool condition, Func<Task> respond)
    {
        if (!condition)
        {
            return false;
        }

        await respond();
        return true;
    }

    private static async Task Head(HubEmulator hub, NetworkStream stream, string status, (string Name, string Value)[] headers, CancellationToken cancellationToken)
    {
        var head = new StringBuilder($"HTTP/1.1 {status}\r\nConnection: close\r\n");
        foreach ((string n, string v) in headers)
        {
            head.Append(n).Append(": ").Append(v).Append("\r\n");
        }

        byte[] bytes = Encoding.ASCII.GetBytes(head.Append("\r\n").ToString());
        await stream.WriteAsync(bytes, cancellationToken);
        hub.CountHostileBytes(bytes.Length);
    }

    private static async Task Body(HubEmulator hub, NetworkStream stream, string status, byte[] body, CancellationToken cancellationToken, long? declared = null)
    {
        await Head(hub, stream, status, [("Content-Length", (declared ?? body.Length).ToString(System.Globalization.CultureInfo.InvariantCulture))], cancellationToken);
        await stream.WriteAsync(body, cancellationToken);
        hub.CountHostileBytes(body.Length);
    }

    private static async Task Endless(HubEmulator hub, NetworkStream stream, string status, (string, string)[] headers, CancellationToken cancellationToken)
    {
        await Head(hub, stream, status, headers, cancellationToken);
        byte[] chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)' ');
        while (true)
        {
            await stream.WriteAsync(chunk, cancellationToken); // ends when the client hangs up (IOException) or at the emulator's 10 s limit
            hub.CountHostileBytes(chunk.Length);
        }
    }

    private static async Task Drip(HubEmulator hub, NetworkStream stream, (string, string)[] headers, CancellationToken cancellationToken)
    {
        await Head(hub, stream, "200 OK", headers, cancellationToken);
        while (true)
        {
            await stream.WriteAsync(" "u8.ToArray(), cancellationToken);
            hub.CountHostileBytes(1);
            await Task.Delay(50, cancellationToken);
        }
    }
}
