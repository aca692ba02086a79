using System.CommandLine;
using Idefics3.Hub;

namespace Idefics3.Cli.Commands;

/// <summary>Hub options from the environment (HF_ENDPOINT, HF_HUB_CACHE, HF_TOKEN, HF_HUB_OFFLINE) plus command-line overrides.</summary>
internal static class HubSettings
{
    public static Option<string?> CreateCacheDirOption() => new("--cache-dir")
    {
        Description = "Hugging Face hub cache folder (default: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub).",
        HelpName = "folder",
    };

    public static Option<bool> CreateOfflineOption() => new("--offline")
    {
        Description = "Use only the local cache, never the network (like HF_HUB_OFFLINE=1).",
    };

    public static HubOptions Create(string? cacheDirectory, bool offline, bool checkForUpdates = false)
    {
        HubOptions environment = HubOptions.FromEnvironment();
        return new HubOptions
        {
            CacheDirectory = string.IsNullOrWhiteSpace(cacheDirectory) ? environment.CacheDirectory : Path.GetFullPath(cacheDirectory),
            Endpoint = environment.Endpoint,
            Token = environment.Token,
            Offline = offline || environment.Offline,
            CheckForUpdates = checkForUpdates && !(offline || environment.Offline),
        };
    }
}
