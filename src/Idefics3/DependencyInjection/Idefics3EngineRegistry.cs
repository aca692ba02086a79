using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Idefics3;

/// <summary>
/// Loads each model once per process configuration: registrations that name the same model (same folder or repository
/// id, device and dtype) share one <see cref="Idefics3Engine"/>. Registered as a singleton; disposing it disposes the
/// engines it loaded.
/// </summary>
/// <remarks>
/// The first registration that loads a model decides its other engine options (concurrency, queue, caches, threads);
/// later registrations of the same model, device and dtype share that engine as it is.
/// </remarks>
public sealed class Idefics3EngineRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<Idefics3Engine>>> _engines = new(StringComparer.Ordinal);
    private readonly ILoggerFactory? _loggerFactory;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="Idefics3EngineRegistry"/> class.</summary>
    /// <param name="loggerFactory">Creates the engines' loggers.</param>
    public Idefics3EngineRegistry(ILoggerFactory? loggerFactory = null) => _loggerFactory = loggerFactory;

    /// <summary>Gets the engine for <paramref name="model"/>, loading it on first use.</summary>
    /// <param name="model">A model folder or Hugging Face repository id.</param>
    /// <param name="options">Engine options; the key includes the device and dtype.</param>
    /// <param name="cancellationToken">Cancels waiting (not a load another caller started).</param>
    /// <returns>The shared engine.</returns>
    public async Task<Idefics3Engine> GetAsync(string model, Idefics3EngineOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(_disposed, this);
        string key = KeyOf(model, options);
        Lazy<Task<Idefics3Engine>> lazy = _engines.GetOrAdd(
            key,
            _ => new Lazy<Task<Idefics3Engine>>(() => Idefics3Engine.LoadAsync(model, options, null, _loggerFactory, CancellationToken.None)));
        Task<Idefics3Engine> load = lazy.Value;
        try
        {
            return await load.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (load.IsFaulted || load.IsCanceled)
        {
            // A failed load is not cached: the next caller tries again.
            _engines.TryRemove(new KeyValuePair<string, Lazy<Task<Idefics3Engine>>>(key, lazy));
            throw;
        }
    }

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

    /// <inheritdoc />
    public void Dispose()
    {
        _disposed = true;
        foreach (Lazy<Task<Idefics3Engine>> lazy in _engines.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                lazy.Value.Result.Dispose();
            }
        }

        _engines.Clear();
    }
}
