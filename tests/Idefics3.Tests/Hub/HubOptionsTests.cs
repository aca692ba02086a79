using Idefics3.Hub;

namespace Idefics3.Tests.Hub;

public sealed class HubOptionsTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.TryGetValue(name, out string? value) ? value : null;
    }

    [Fact]
    public void HF_HUB_CACHE_wins_over_HF_HOME()
    {
        HubOptions options = HubOptions.FromEnvironment(Env(("HF_HUB_CACHE", "/data/hub"), ("HF_HOME", "/data/hf")));
        Assert.Equal("/data/hub", options.CacheDirectory);
    }

    [Fact]
    public void HF_HOME_gives_its_hub_subfolder()
    {
        HubOptions options = HubOptions.FromEnvironment(Env(("HF_HOME", "/data/hf")));
        Assert.Equal(Path.Combine("/data/hf", "hub"), options.CacheDirectory);
    }

    [Fact]
    public void Default_cache_is_under_the_home_cache_folder()
    {
        string home = OperatingSystem.IsWindows() ? "USERPROFILE" : "HOME";
        HubOptions options = HubOptions.FromEnvironment(Env((home, "/home/me")));
        Assert.Equal(Path.Combine("/home/me", ".cache", "huggingface", "hub"), options.CacheDirectory);

        HubOptions xdg = HubOptions.FromEnvironment(Env((home, "/home/me"), ("XDG_CACHE_HOME", "/xdg")));
        Assert.Equal(Path.Combine("/xdg", "huggingface", "hub"), xdg.CacheDirectory);
    }

    [Fact]
    public void Tilde_in_cache_variables_means_the_home_folder()
    {
        string home = OperatingSystem.IsWindows() ? "USERPROFILE" : "HOME";
        HubOptions options = HubOptions.FromEnvironment(Env((home, "/home/me"), ("HF_HUB_CACHE", "~/hub")));
        Assert.Equal(Path.Combine("/home/me", "hub"), options.CacheDirectory);
    }

    [Fact]
    public void Token_endpoint_and_offline_are_read_from_the_environment()
    {
        HubOptions options = HubOptions.FromEnvironment(Env(("HF_TOKEN", " hf_abc "), ("HF_ENDPOINT", "https://mirror.example/"), ("HF_HUB_OFFLINE", "1")));

        Assert.Equal("hf_abc", options.Token);
        Assert.Equal(new Uri("https://mirror.example"), options.Endpoint);
        Assert.True(options.Offline);
    }

    [Fact]
    public void Missing_variables_give_the_public_hub_online_without_token()
    {
        HubOptions options = HubOptions.FromEnvironment(Env());

        Assert.Equal(HubOptions.DefaultEndpoint, options.Endpoint);
        Assert.Null(options.Token);
        Assert.False(options.Offline);
        Assert.Equal(4, options.MaxParallelDownloads);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("YES", true)]
    [InlineData("on", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("", false)]
    public void HF_HUB_OFFLINE_accepts_the_usual_true_values(string value, bool offline)
    {
        Assert.Equal(offline, HubOptions.FromEnvironment(Env(("HF_HUB_OFFLINE", value))).Offline);
    }

    [Fact]
    public void Invalid_HF_ENDPOINT_fails_with_invalid_options()
    {
        var ex = Assert.Throws<HubException>(() => HubOptions.FromEnvironment(Env(("HF_ENDPOINT", "ftp://example"))));
        Assert.Equal(HubErrorKind.InvalidOptions, ex.Kind);
        Assert.Contains("HF_ENDPOINT", ex.Message, StringComparison.Ordinal);
    }
}
