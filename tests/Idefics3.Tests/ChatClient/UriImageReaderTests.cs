using System.Net;
using Idefics3.Processing;
using Microsoft.Extensions.AI;

namespace Idefics3.Tests.ChatClient;

/// <summary>Image <see cref="UriContent"/>: refused unless fetching is allowed, then read with size and time limits.</summary>
[Collection(ChatClientTestGroup.Name)]
public sealed class UriImageReaderTests
{
    private readonly ChatClientFixture _fixture;

    public UriImageReaderTests(ChatClientFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Http_image_uris_are_refused_when_downloading_is_off()
    {
        var message = new ChatMessage(ChatRole.User, [new UriContent("https://example.com/cat.png", "image/png"), new TextContent("What is it?")]);

        ImageFetchException error = await Assert.ThrowsAsync<ImageFetchException>(() => _fixture.Client.GetResponseAsync([message]));

        Assert.Contains("AllowHttpUris", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task File_image_uris_are_refused_when_reading_files_is_off()
    {
        string path = WriteTemp(ChatClientFixture.ImageA);
        try
        {
            var message = new ChatMessage(ChatRole.User, [new UriContent(new Uri(path), "image/png")]);

            ImageFetchException error = await Assert.ThrowsAsync<ImageFetchException>(() => _fixture.Client.GetResponseAsync([message]));

            Assert.Contains("AllowFileUris", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task File_image_uris_are_read_when_allowed_and_give_the_same_prompt_as_the_bytes()
    {
        string path = WriteTemp(ChatClientFixture.ImageC);
        try
        {
            using Idefics3ChatClient client = _fixture.NewClient(new Idefics3ChatClientOptions { AllowFileUris = true });
            var message = new ChatMessage(ChatRole.User, [new UriContent(new Uri(path), "image/*"), new TextContent("What is it?")]);

            ChatResponse response = await client.GetResponseAsync([message], ChatClientFixture.Greedy(1));

            IReadOnlyList<int> expected = _fixture.ExpectedInputIds([PromptMessage.Create("user", ChatClientFixture.PromptPng(ChatClientFixture.ImageC), new PromptText("What is it?"))]);
            Assert.Equal(expected, ChatClientFixture.Raw(response).InputIds);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Http_image_uris_are_downloaded_through_the_configured_HttpClient_when_allowed()
    {
        var handler = new FakeHandler(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(ChatClientFixture.ImageB) });
        using var http = new HttpClient(handler);
        using Idefics3ChatClient client = _fixture.NewClient(new Idefics3ChatClientOptions { AllowHttpUris = true, HttpClient = http });
        var message = new ChatMessage(ChatRole.User, [new TextContent("Look:"), new UriContent("https://images.example/b.png", "image/png")]);

        ChatResponse response = await client.GetResponseAsync([message], ChatClientFixture.Greedy(1));

        Assert.Equal(["https://images.example/b.png"], handler.Requests);
        IReadOnlyList<int> expected = _fixture.ExpectedInputIds([PromptMessage.Create("user", new PromptText("Look:"), ChatClientFixture.PromptPng(ChatClientFixture.ImageB))]);
        Assert.Equal(expected, ChatClientFixture.Raw(response).InputIds);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Http_downloads_over_the_size_limit_are_refused_whether_or_not_the_length_is_declared(bool declareLength)
    {
        byte[] body = new byte[300_000];
        var handler = new FakeHandler(_ =>
        {
            HttpContent content = declareLength ? new ByteArrayContent(body) : new StreamContent(new UnknownLengthStream(body));
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        });
        using var http = new HttpClient(handler);
        using Idefics3ChatClient client = _fixture.NewClient(new Idefics3ChatClientOptions { AllowHttpUris = true, HttpClient = http, MaxImageBytes = 100_000 });

        ImageFetchException error = await Assert.ThrowsAsync<ImageFetchException>(() =>
            client.GetResponseAsync([new ChatMessage(ChatRole.User, [new UriContent("http://images.example/big.png", "image/png")])]));

        Assert.Contains("100000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_downloads_that_outlast_the_time_limit_fail_with_an_ImageFetchException_over_a_TimeoutException()
    {
        var handler = new FakeHandler(async ct =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var http = new HttpClient(handler);
        using Idefics3ChatClient client = _fixture.NewClient(
            new Idefics3ChatClientOptions { AllowHttpUris = true, HttpClient = http, ImageDownloadTimeout = TimeSpan.FromMilliseconds(50) });

        ImageFetchException error = await Assert.ThrowsAsync<ImageFetchException>(() =>
            client.GetResponseAsync([new ChatMessage(ChatRole.User, [new UriContent("https://slow.example/x.png", "image/png")])]));
        Assert.IsType<TimeoutException>(error.InnerException);
    }

    [Fact]
    public async Task Http_error_statuses_surface_as_ImageFetchException_with_the_status()
    {
        var handler = new FakeHandler(_ => new HttpResponseMessage(HttpStatusCode.NotFound));
        using var http = new HttpClient(handler);
        using Idefics3ChatClient client = _fixture.NewClient(new Idefics3ChatClientOptions { AllowHttpUris = true, HttpClient = http });

        ImageFetchException error = await Assert.ThrowsAsync<ImageFetchException>(() =>
            client.GetResponseAsync([new ChatMessage(ChatRole.User, [new UriContent("https://images.example/missing.png", "image/png")])]));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public void Invalid_limits_are_refused_when_the_client_is_made()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _fixture.NewClient(new Idefics3ChatClientOptions { MaxImageBytes = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _fixture.NewClient(new Idefics3ChatClientOptions { ImageDownloadTimeout = TimeSpan.Zero }));
    }

    private static string WriteTemp(byte[] bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"idefics3-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private sealed class FakeHandler : HttpMessageHandler
    {
        private readonly Func<CancellationToken, Task<HttpResponseMessage>> _respond;

        public FakeHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) => _respond = _ => Task.FromResult(respond(null!));

        public FakeHandler(Func<CancellationToken, Task<HttpResponseMessage>> respond) => _respond = respond;

        public List<string> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!.ToString());
            return _respond(cancellationToken);
        }
    }

    /// <summary>A stream that hides its length, like a chunked response.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
