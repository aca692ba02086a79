namespace Idefics3.Cli.Tests;

/// <summary><c>download</c> and hub errors against the local hub emulator.</summary>
public sealed class DownloadCommandTests
{
    [Fact]
    public async Task Download_fetches_the_model_into_the_cache_and_prints_the_snapshot_folder()
    {
        await using var hub = HubFixture.Start();

        CliResult result = await CliRunner.RunAsync(["download", HubFixture.RepoId], hub.Environment());

        Assert.True(result.ExitCode == 0, result.ToString());
        string folder = result.Stdout.Trim();
        Assert.DoesNotContain('\n', folder);
        Assert.StartsWith(Path.Combine(hub.CacheDirectory, "models--test-org--tiny-idefics3", "snapshots"), folder, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, "config.json")));
        Assert.Equal(
            await File.ReadAllBytesAsync(Path.Combine(CliRunner.TinyModel, "model.safetensors")),
            await File.ReadAllBytesAsync(Path.Combine(folder, "model.safetensors")));
        // Redirected output: plain progress lines on stderr, nothing but the folder on stdout.
        Assert.Contains("model.safetensors: done", result.Stderr, StringComparison.Ordinal);

        // Then, offline, info finds it in the cache.
        CliResult info = await CliRunner.RunAsync(["info", "--model", HubFixture.RepoId], hub.Environment(offline: true));
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Contains(folder, info.Stdout, StringComparison.Ordinal);
        Assert.Contains("Parameters", info.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_with_the_model_option_and_quiet_prints_only_the_folder()
    {
        await using var hub = HubFixture.Start();

        CliResult result = await CliRunner.RunAsync(["download", "--model", HubFixture.RepoId + "@main", "--quiet"], hub.Environment());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(Directory.Exists(result.Stdout.Trim()));
        Assert.Equal(string.Empty, result.Stderr);
    }

    [Fact]
    public async Task Download_with_the_progress_bars_forced_on_a_redirected_stream_still_works()
    {
        await using var hub = HubFixture.Start();
        Dictionary<string, string?> environment = hub.Environment();
        environment["IDEFICS3_PROGRESS"] = "rich";

        CliResult result = await CliRunner.RunAsync(["download", HubFixture.RepoId], environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(Directory.Exists(result.Stdout.Trim()), result.ToString());
        Assert.Contains("Downloaded", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_repository_exits_with_1_and_says_not_found()
    {
        await using var hub = HubFixture.Start();

        CliResult result = await CliRunner.RunAsync(["download", "test-org/no-such-model"], hub.Environment());

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("not found", result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public async Task Offline_without_a_cached_copy_exits_with_1()
    {
        await using var hub = HubFixture.Start();

        CliResult result = await CliRunner.RunAsync(["info", "--model", HubFixture.RepoId], hub.Environment(offline: true));

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("offline", result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(hub.Hub.Requests);
    }

    [Fact]
    public async Task An_unreachable_hub_exits_with_1()
    {
        CliResult result = await CliRunner.RunAsync(["download", "test-org/anything"]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.StartsWith("idefics3: error:", result.Stderr, StringComparison.Ordinal);
    }
}
