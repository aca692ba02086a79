using Idefics3.Tests.Hub;

namespace Idefics3.Cli.Tests;

/// <summary>A hub emulator serving the tiny model as <c>test-org/tiny-idefics3</c>, and a fresh hub cache folder per test.</summary>
internal sealed class HubFixture : IAsyncDisposable
{
    public const string RepoId = "test-org/tiny-idefics3";

    private HubFixture(HubEmulator hub, string cache)
    {
        Hub = hub;
        CacheDirectory = cache;
    }

    public HubEmulator Hub { get; }

    public string CacheDirectory { get; }

    /// <summary>An image in the repository, for image-URL tests: {endpoint}/test-org/tiny-idefics3/resolve/main/image.png.</summary>
    public const string ImageFile = "image.png";

    public Uri ImageUrl => new(Hub.Endpoint, $"{RepoId}/resolve/main/{ImageFile}");

    public static HubFixture Start()
    {
        var hub = HubEmulator.Start();
        var files = Directory.EnumerateFiles(CliRunner.TinyModel)
            .ToDictionary(path => Path.GetFileName(path), File.ReadAllBytes, StringComparer.Ordinal);
        files[ImageFile] = File.ReadAllBytes(TinyEngineFixture.ImageA);
        hub.AddRepo(RepoId, files);
        string cache = Path.Combine(Path.GetTempPath(), "idefics3-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(cache);
        return new HubFixture(hub, cache);
    }

    /// <summary>The environment of a run against this hub.</summary>
    public Dictionary<string, string?> Environment(bool offline = false) => new()
    {
        ["HF_ENDPOINT"] = Hub.Endpoint.ToString().TrimEnd('/'),
        ["HF_HUB_CACHE"] = CacheDirectory,
        ["HF_HUB_OFFLINE"] = offline ? "1" : null,
    };

    public async ValueTask DisposeAsync()
    {
        await Hub.DisposeAsync();
        try
        {
            Directory.Delete(CacheDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
