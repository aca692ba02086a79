using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Idefics3;

/// <summary>
/// Loads each model once per process configuration: registrations that name the same model (same folder or repository
/// id, device and dtype) share one <see cref="Idefics3Engine"/>. Registered as a singleton; disposing it disposes the
/// engines it loaded and cancels the loads still running.
/// </summary>
/// <remarks>
/// <para>Loads are single-flight and asynchronous: concurrent callers for the same model await one load. A caller's
/// cancellation token cancels only its own wait, never the shared load. A failed load is not kept: its callers get
/// the load's exception (for example a <see cref="Configuration.ConfigurationException"/>) and the next call loads again.</para>
/// <para>The first registration that loads a model decides its other engine options (concurrency, queue, caches,
/// threads); later registrations of the same model, device and dtype share that engine as it is.</para>
/// </remarks>
public sealed partial class Idefics3EngineRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<Idefics3Engine>>> _engines = new(StringComparer.Ordinal);
    private readonly ILoggerFactory? _loggerFactory;
    private readonly ILogger _logger;
    private readonly Func<string, Idefics3EngineOptions, ILoggerFactory?, CancellationToken, Task<Idefics3Engine>> _load;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly List<Idefics3Engine> _loaded = [];
    private readonly Lock _lifetime = new();
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="Idefics3EngineRegistry"/> class.</summary>
    /// <param name="loggerFactory">Creates the engines' loggers.</param>
    public Idefics3EngineRegistry(ILoggerFactory? loggerFactory = null)
        : this(loggerFactory, static (model, options, loggers, token) => Idefics3Engine.LoadAsync(model, options, null, loggers, token))
    {
    }

    /// <summary>Initializes a registry that loads with <paramref name="load"/> (tests gate or count loads with it).</summary>
    internal Idefics3EngineRegistry(
        ILoggerFactory? loggerFactory,
        Func<string, Idefics3EngineOptions, ILoggerFactory?, CancellationToken, Task<Idefics3Engine>> load)
    {
        _loggerFactory = loggerFactory;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Idefics3EngineRegistry>();
        _load = load;
    }

    /// <summary>Gets the engine for <paramref name="model"/>, loading it on first use.</summary>
    /// <param name="model">A model folder or Hugging Face repository id.</param>
    /// <param name="options">Engine options; the key includes the device and dtype.</param>
    /// <param name="cancellationToken">Cancels this caller's wait, not the load other callers share.</param>
    /// <returns>The shared engine.</returns>
    /// <exception cref="ObjectDisposedException">The registry was disposed (before or while the model loaded).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<Idefics3Engine> GetAsync(string model, Idefics3EngineOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(_disposed, this);
        string key = KeyOf(model, options);
        if (!_engines.TryGetValue(key, out Lazy<Task<Idefics3Engine>>? entry))
        {
            Lazy<Task<Idefics3Engine>>? created = null;
            created = new Lazy<Task<Idefics3Engine>>(() => LoadAsync(key, created!, model, options.Clone()));
            entry = _engines.GetOrAdd(key, created);
        }

        return await entry.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gets the engine for <paramref name="model"/> when it has finished loading, without waiting; otherwise null.</summary>
    internal Idefics3Engine? TryGetLoaded(string model, Idefics3EngineOptions options) =>
        _engines.TryGetValue(KeyOf(model, options), out Lazy<Task<Idefics3Engine>>? lazy) &&
        lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully ? lazy.Value.Result : null;

    /// <summary>
    /// The sharing key: the model's full path (or repository id), the device and the dtype. The path is normalised
    /// (full, no trailing separator) and the device lower-cased, so spellings of the same model share one engine.
    /// </summary>
    internal static string KeyOf(string model, Idefics3EngineOptions options)
    {
        string name = Directory.Exists(model) ? Path.TrimEndingDirectorySeparator(Path.GetFullPath(model)) : model.Trim();
        (string kind, int index) = Idefics3EngineOptions.ParseDevice(options.Device);
        return $"{name}|{kind}:{index}|{options.DType}";
    }

    /// <summary>Disposes the loaded engines and cancels running loads (an engine that finishes loading later is disposed at once).</summary>
    public void Dispose()
    {
        Idefics3Engine[] loaded;
        lock (_lifetime)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            loaded = [.. _loaded];
            _loaded.Clear();
        }

        _shutdown.Cancel();
        foreach (Idefics3Engine engine in loaded)
        {
            engine.Dispose();
        }

        _engines.Clear();
        _shutdown.Dispose();
    }

    /// <summary>
    /// The one load behind a key. A failure removes the entry before its callers see it, so the next call loads again;
    /// an engine that finishes after <see cref="Dispose"/> is disposed instead of returned.
    /// </summary>
    private async Task<Idefics3Engine> LoadAsync(string key, Lazy<Task<Idefics3Engine>> self, string model, Idefics3EngineOptions options)
    {
        Idefics3Engine engine;
        try
        {
            CancellationToken shutdown;
            lock (_lifetime)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                shutdown = _shutdown.Token;
            }

            // Off the first caller's thread: the load's synchronous start (folder checks, hub resolution) never runs inline.
            await Task.Yield();
            LogLoading(_logger, model);
            engine = await _load(model, options, _loggerFactory, shutdown).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_disposed)
        {
            _engines.TryRemove(new KeyValuePair<string, Lazy<Task<Idefics3Engine>>>(key, self));
            throw new ObjectDisposedException(nameof(Idefics3EngineRegistry), "The registry was disposed while the model was loading.");
        }
        catch (Exception ex)
        {
            LogLoadFailed(_logger, model, ex);
            _engines.TryRemove(new KeyValuePair<string, Lazy<Task<Idefics3Engine>>>(key, self));
            throw;
        }

        lock (_lifetime)
        {
            if (!_disposed)
            {
                _loaded.Add(engine);
                return engine;
            }
        }

        engine.Dispose();
        throw new ObjectDisposedException(nameof(Idefics3EngineRegistry), "The registry was disposed while the model was loading.");
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Loading model {Model}")]
    private static partial void LogLoading(ILogger logger, string model);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "Loading model {Model} failed; the next request loads it again")]
    private static partial void LogLoadFailed(ILogger logger, string model, Exception exception);
}
