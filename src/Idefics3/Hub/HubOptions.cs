namespace Idefics3.Hub;

/// <summary>
/// Where and how models are fetched from the Hugging Face hub. <see cref="FromEnvironment(Func{string, string?}?)"/>
/// reads the same environment variables as the Python <c>huggingface_hub</c> package (<c>HF_HUB_CACHE</c>,
/// <c>HF_HOME</c>, <c>HF_TOKEN</c>, <c>HF_ENDPOINT</c>, <c>HF_HUB_OFFLINE</c>), so both share one cache.
/// A plain <c>new HubOptions()</c> reads no environment variable.
/// </summary>
public sealed class HubOptions
{
    /// <summary>The public Hugging Face hub, used when <c>HF_ENDPOINT</c> is not set.</summary>
    public static readonly Uri DefaultEndpoint = new("https://huggingface.co");

    /// <summary>Gets the hub cache folder (the one holding <c>models--org--name</c> folders).</summary>
    public string CacheDirectory { get; init; } = DefaultCacheDirectory(static _ => null);

    /// <summary>Gets the hub endpoint, <c>https://huggingface.co</c> unless a mirror is configured.</summary>
    public Uri Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Gets the access token sent as <c>Authorization: Bearer</c> to the endpoint, or <see langword="null"/> for none.</summary>
    public string? Token { get; init; }

    /// <summary>Gets a value indicating whether to use only the local cache and never the network.</summary>
    public bool Offline { get; init; }

    /// <summary>
    /// Gets a value indicating whether to ask the hub for the current commit of a branch or tag even when that
    /// revision is already cached. Off by default: a cached revision needs no network.
    /// </summary>
    public bool CheckForUpdates { get; init; }

    /// <summary>Gets how many files download at the same time (1 to 32; default 4).</summary>
    public int MaxParallelDownloads { get; init; } = 4;

    /// <summary>
    /// Gets how many times one call resumes an interrupted transfer of a file before it gives up with
    /// <see cref="HubErrorKind.TransferInterrupted"/> (default 3; 0 = never within the call).
    /// </summary>
    public int MaxResumeAttempts { get; init; } = 3;

    /// <summary>Gets how long a transfer may go without receiving any byte before it counts as interrupted (default 60 s).</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Creates options from environment variables, the way <c>huggingface_hub</c> reads them:
    /// cache folder <c>HF_HUB_CACHE</c>, else <c>HF_HOME/hub</c>, else <c>XDG_CACHE_HOME/huggingface/hub</c>, else
    /// <c>~/.cache/huggingface/hub</c>; <c>HF_TOKEN</c>; <c>HF_ENDPOINT</c>; <c>HF_HUB_OFFLINE</c> (1, true, yes or on).
    /// </summary>
    /// <param name="getVariable">Reads one variable; <see langword="null"/> reads the process environment. Tests pass a dictionary lookup.</param>
    /// <returns>The options.</returns>
    /// <exception cref="HubException"><c>HF_ENDPOINT</c> is not an absolute http or https URL.</exception>
    public static HubOptions FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        string? endpoint = NonEmpty(getVariable("HF_ENDPOINT"));
        return new HubOptions
        {
            CacheDirectory = DefaultCacheDirectory(getVariable),
            Endpoint = endpoint is null ? DefaultEndpoint : ParseEndpoint(endpoint),
            Token = NonEmpty(getVariable("HF_TOKEN")),
            Offline = IsTrue(getVariable("HF_HUB_OFFLINE")),
        };
    }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(CacheDirectory))
        {
            throw new HubException(HubErrorKind.InvalidOptions, "HubOptions.CacheDirectory is empty.");
        }

        if (Endpoint is null || !Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new HubException(HubErrorKind.InvalidOptions, $"HubOptions.Endpoint '{Endpoint}' is not an absolute http or https URL.");
        }

        if (MaxParallelDownloads is < 1 or > 32)
        {
            throw new HubException(HubErrorKind.InvalidOptions, $"HubOptions.MaxParallelDownloads is {MaxParallelDownloads}; use 1 to 32.");
        }

        if (MaxResumeAttempts is < 0 or > 100)
        {
            throw new HubException(HubErrorKind.InvalidOptions, $"HubOptions.MaxResumeAttempts is {MaxResumeAttempts}; use 0 to 100.");
        }

        if (ReadTimeout <= TimeSpan.Zero && ReadTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new HubException(HubErrorKind.InvalidOptions, $"HubOptions.ReadTimeout is {ReadTimeout}; use a positive time span.");
        }
    }

    private static string DefaultCacheDirectory(Func<string, string?> getVariable)
    {
        string? hubCache = NonEmpty(getVariable("HF_HUB_CACHE"));
        if (hubCache is not null)
        {
            return ExpandHome(hubCache, getVariable);
        }

        string? home = NonEmpty(getVariable("HF_HOME"));
        if (home is not null)
        {
            return Path.Combine(ExpandHome(home, getVariable), "hub");
        }

        string? xdg = NonEmpty(getVariable("XDG_CACHE_HOME"));
        string cacheRoot = xdg is not null ? ExpandHome(xdg, getVariable) : Path.Combine(UserHome(getVariable), ".cache");
        return Path.Combine(cacheRoot, "huggingface", "hub");
    }

    private static string ExpandHome(string path, Func<string, string?> getVariable)
    {
        if (path == "~")
        {
            return UserHome(getVariable);
        }

        return path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal)
            ? Path.Combine(UserHome(getVariable), path[2..])
            : path;
    }

    private static string UserHome(Func<string, string?> getVariable)
    {
        string? home = NonEmpty(getVariable(OperatingSystem.IsWindows() ? "USERPROFILE" : "HOME"));
        return home ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
    }

    private static Uri ParseEndpoint(string value)
    {
        if (!Uri.TryCreate(value.TrimEnd('/'), UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new HubException(HubErrorKind.InvalidOptions, $"HF_ENDPOINT '{value}' is not an absolute http or https URL, for example https://huggingface.co.");
        }

        return uri;
    }

    private static bool IsTrue(string? value) =>
        value is not null && value.Trim().ToUpperInvariant() is "1" or "TRUE" or "YES" or "ON";

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
