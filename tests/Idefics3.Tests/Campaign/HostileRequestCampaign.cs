using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Idefics3.Imaging;
using Idefics3.Processing;
using Idefics3.Tests.ChatClient;
using Idefics3.Tests.Hub;
using Microsoft.Extensions.AI;
using Xunit.Abstractions;

namespace Idefics3.Tests.Campaign;

/// <summary>
/// Hostile requests through the chat client on the tiny model: image URIs that point at internal addresses, redirect to
/// other schemes or hosts, never end, drip, or name devices and FIFOs; enum options given as numbers. Each must end
/// with the library's typed exception (<see cref="ImageFetchException"/>, an <see cref="ImageDecodeException"/>;
/// <see cref="ArgumentException"/> for options) or a correct answer, within its time and memory bounds. Servers bind
/// 127.0.0.1 only and the cases that must reach them set <see cref="Idefics3ChatClientOptions.AllowPrivateNetworkUris"/>.
/// </summary>
[Collection(CampaignGroup.Name)]
public sealed class HostileRequestCampaign : IClassFixture<ChatClientFixture>, IAsyncLifetime
{
    private readonly ChatClientFixture _fixture;
    private readonly CampaignProbe _probe;
    private readonly HubEmulator _server = HubEmulator.Start();

    public HostileRequestCampaign(ChatClientFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _probe = new CampaignProbe(output);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Image_urls_on_loopback_are_blocked_unless_allowed_and_then_read()
    {
        _server.Hostile = (m, p, s, ct) => Go(Respond(s, "200 OK", [("Content-Type", "image/png")], ChatClientFixture.ImageA, ct));
        var url = new Uri(_server.Endpoint, "/a.png");

        using (Idefics3ChatClient blocked = _fixture.NewClient(new Idefics3ChatClientOptions { AllowHttpUris = true }))
        {
            Exception? error = await _probe.RunAsync("image url on 127.0.0.1 (default)", () => blocked.GetResponseAsync([Image(url)], ChatClientFixture.Greedy(1)), 10, 200, typeof(ImageFetchException));
            Assert.Contains("AllowPrivateNetworkUris", Assert.IsType<ImageFetchException>(error).Message, StringComparison.Ordinal);
            Assert.Empty(_server.Requests); // refused before any connection
        }

        foreach (string host in new[] { "http://localhost:1/x.png", "http://[::1]:1/x.png", "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/x.png", "http://192.168.0.1/x.png", "http://0.0.0.0:1/x.png", "http://[::ffff:127.0.0.1]:1/x.png" })
        {
            using Idefics3ChatClient client = _fixture.NewClient(new Idefics3ChatClientOptions { AllowHttpUris = true });
            await _probe.RunAsync($"image url {host}", () => client.GetResponseAsync([Image(new Uri(host))], ChatClientFixture.Greedy(1)), 10, 200, typeof(ImageFetchException));
        }

        using Idefics3ChatClient allowed = _fixture.NewClient(new Idefics3ChatClientOptions { AllowHttpUris = true, AllowPrivateNetworkUris = true });
        ChatResponse response = await allowed.GetResponseAsync([Image(url)], ChatClientFixture.Greedy(1));
        IReadOnlyList<int> expected = _fixture.ExpectedInputIds([PromptMessage.Create("user", ChatClientFixture.PromptPng(ChatClientFixture.ImageA), new PromptText("What is it?"))]);
        Assert.Equal(expected, ChatClientFixture.Raw(response).InputIds);
        Assert.Single(_server.Requests);
    }

    public static TheoryData<string> ServerCases() => new(_serverCases.Keys);

    private static readonly Dictionary<string, Func<HubEmulator, NetworkStream, CancellationToken, Task>> _serverCases = new(StringComparer.Ordinal)
    {
        ["redirect to file:///etc/passwd"] = (h, s, ct) => Respond(s, "302 Found", [("Location", "file:///etc/passwd")], [], ct),
        ["redirect to ftp://"] = (h, s, ct) => Respond(s, "301 Moved Permanently", [("Location", "ftp://127.0.0.1/a.png")], [], ct),
        ["redirect loop"] = (h, s, ct) => Respond(s, "302 Found", [("Location", "/again")], [], ct),
        ["endless body without a length"] = (h, s, ct) => Endless(h, s, [], ct),
        ["body declaring 10 GB"] = (h, s, ct) => Endless(h, s, [("Content-Length", "10000000000")], ct),
        ["body shorter than declared"] = (h, s, ct) => Respond(s, "200 OK", [("Content-Length", "5000")], ChatClientFixture.ImageA[..100], ct, writeLength: false),
        ["slow drip"] = (h, s, ct) => Drip(s, ct),
        ["HTTP 500"] = (h, s, ct) => Respond(s, "500 Internal Server Error", [], [], ct),
        ["random bytes as an image"] = (h, s, ct) => Respond(s, "200 OK", [], HubEmulator.RandomBytes(4000, 5), ct),
        ["a PNG signature then garbage"] = (h, s, ct) => Respond(s, "200 OK", [], [.. ChatClientFixture.ImageA[..16], .. HubEmulator.RandomBytes(4000, 6)], ct),
    };

    [Theory]
    [MemberData(nameof(ServerCases))]
    public async Task Hostile_image_servers_give_typed_errors_early(string name)
    {
        _server.Hostile = (m, p, s, ct) => Go(_serverCases[name](_server, s, ct));
        using Idefics3ChatClient client = _fixture.NewClient(new Idefics3ChatClientOptions
        {
            AllowHttpUris = true,
            AllowPrivateNetworkUris = true,
            MaxImageBytes = 1024 * 1024,
            ImageDownloadTimeout = TimeSpan.FromSeconds(1),
        });

        Exception? error = await _probe.RunAsync(name, () => client.GetResponseAsync([Image(new Uri(_server.Endpoint, "/x.png"))], ChatClientFixture.Greedy(1)), 15, 300, typeof(ImageDecodeException));

        Assert.IsAssignableFrom<ImageDecodeException>(error);
        Assert.DoesNotContain("root:", error!.ToString(), StringComparison.Ordinal);
        Assert.True(_server.HostileBytesSent < 64L * 1024 * 1024, $"the server sent {_server.HostileBytesSent} bytes before the client stopped");
    }

    [Fact]
    public async Task Redirects_to_internal_addresses_are_not_followed_through_a_callers_client()
    {
        var requests = new List<Uri>();
        using var http = new HttpClient(new RedirectingHandler(requests, "http://169.254.169.254/latest/meta-data/"));
        using Idefics3ChatClient client = _fixture.NewClient(new Idefics3ChatClientOptions { AllowHttpUris = true, HttpClient = http });

        Exception? error = await _probe.RunAsync("redirect to 169.254.169.254 (caller's client)", () => client.GetResponseAsync([Image(new Uri("https://images.example/a.png"))], ChatClientFixture.Greedy(1)), 10, 200, typeof(ImageFetchException));

        Assert.Contains("169.254.169.254", error!.Message, StringComparison.Ordinal);
        Assert.Equal([new Uri("https://images.example/a.png")], requests);
    }

    [Fact]
    public async Task File_uris_read_regular_files_only_and_never_hang()
    {
        using Idefics3ChatClient client = _fixture.NewClient(new Idefics3ChatClientOptions { AllowFileUris = true, MaxImageBytes = 1024 * 1024 });
        foreach (string path in new[] { "/dev/zero", "/dev/urandom", "/proc/self/status", "/etc", "/no/such/file.png" })
        {
            await _probe.RunAsync($"file {path}", () => client.GetResponseAsync([Image(new Uri("file://" + path))], ChatClientFixture.Greedy(1)), 5, 100, typeof(ImageFetchException));
        }

        string fifo = Path.Combine(Path.GetTempPath(), $"idefics3-fifo-{Guid.NewGuid():N}");
        using (Process mkfifo = Process.Start("mkfifo", fifo))
        {
            await mkfifo.WaitForExitAsync();
        }

        try
        {
            Exception? error = await _probe.RunAsync("file: a FIFO with no writer", () => client.GetResponseAsync([Image(new Uri(fifo))], ChatClientFixture.Greedy(1)), 5, 100, typeof(ImageFetchException));
            Assert.Contains("not a regular file", error!.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(fifo);
        }
    }

    [Theory]
    [InlineData("alpha_handling", "1")]
    [InlineData("alpha_handling", "-1")]
    [InlineData("do_image_splitting", "yes please")]
    [InlineData("longest_edge", "-5")]
    [InlineData("top_logprobs", "1e400")]
    public async Task Hostile_options_are_ArgumentExceptions_naming_the_key(string key, string value)
    {
        var options = ChatClientFixture.Greedy(1);
        options.AdditionalProperties = new() { [key] = value };

        Exception? error = await _probe.RunAsync($"option {key}={value}", () => _fixture.Client.GetResponseAsync("Hi", options), 5, 100, typeof(ArgumentException));

        Assert.Contains(key, Assert.IsAssignableFrom<ArgumentException>(error).Message, StringComparison.Ordinal);
    }

    private static ChatMessage Image(Uri uri) => new(ChatRole.User, [new UriContent(uri, "image/png"), new TextContent("What is it?")]);

    private static async Task<bool> Go(Task respond)
    {
        await respond;
        return true;
    }

    private static async Task Respond(NetworkStream stream, string status, (string Name, string Value)[] headers, byte[] body, CancellationToken ct, bool writeLength = true)
    {
        var head = new StringBuilder($"HTTP/1.1 {status}\r\nConnection: close\r\n");
        if (writeLength && !headers.Any(h => h.Name == "Content-Length"))
        {
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        foreach ((string n, string v) in headers)
        {
            head.Append(n).Append(": ").Append(v).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()), ct);
        await stream.WriteAsync(body, ct);
    }

    private static async Task Endless(HubEmulator hub, NetworkStream stream, (string, string)[] headers, CancellationToken ct)
    {
        var head = new StringBuilder("HTTP/1.1 200 OK\r\nConnection: close\r\n");
        foreach ((string n, string v) in headers)
        {
            head.Append(n).Append(": ").Append(v).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()), ct);
        byte[] chunk = new byte[64 * 1024];
        while (true)
        {
            await stream.WriteAsync(chunk, ct);
            hub.CountHostileBytes(chunk.Length);
        }
    }

    private static async Task Drip(NetworkStream stream, CancellationToken ct)
    {
        await stream.WriteAsync("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 100000\r\n\r\n"u8.ToArray(), ct);
        while (true)
        {
            await stream.WriteAsync(new byte[] { 0x89 }, ct);
            await Task.Delay(50, ct);
        }
    }

    private sealed class RedirectingHandler(List<Uri> requests, string location) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            requests.Add(request.RequestUri!);
            var response = new HttpResponseMessage(HttpStatusCode.Found) { RequestMessage = request };
            response.Headers.Location = new Uri(location);
            return Task.FromResult(response);
        }
    }
}
