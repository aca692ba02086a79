using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Idefics3;

/// <summary>
/// Loads each model once per process configuration: registrations that name the same model (same folder or repository
/// id, device and dtype) share one <see cref="Idefics3Engine"/>. Registered as a singleton; disposing it disposes the
/// engines it loaded.
/// </summary>
public sealed class Idefics3EngineRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<Idefics3Engine>>> _engines = new(StringComparer.Ordinal);
    private readonly ILoggerFactory? _loggerFactory;

    /// <summary>Initializes a new instance of the <see cref="Idefics3EngineRegistry"/> class.</summary>
    /// <param name="loggerFactory">Creates the engines' loggers.</param>
    public Idefics3EngineRegistry(ILoggerFactory? loggerFactory = null) => _loggerFactory = loggerFactory;

    /// <summary>Gets the engine for <paramref name="model"/>, loading it on first use.</summary>
    /// <param name="model">A model folder or Hugging Face repository id.</param>
    /// <param name="options">Engine options; the key includes the device and dtype.</param>
    /// <param name="cancellationToken">Cancels waiting (not a load another caller started).</param>
    /// <returns>The shared engine.</returns>
    public Task<Idefics3Engine> GetAsync(string model, Idefics3EngineOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(options);
        string key = $"{(Directory.Exists(model) ? Path.GetFullPath(model) : model)}|{options.Device}|{options.DType}";
        Lazy<Task<Idefics3Engine>> lazy = _engines.GetOrAdd(
            key,
            _ => new Lazy<Task<Idefics3Engine>>(() => Idefics3Engine.LoadAsync(model, options, null, _loggerFactory, CancellationToken.None)));
        Task<Idefics3Engine> load = lazy.Value;
        if (load.IsFaulted || load.IsCanceled)
        {
            // A failed load is not cached: the next caller tries again.
            _engines.TryRemove(new KeyValuePair<string, Lazy<Task<Idefics3Engine>>>(key, lazy));
        }

        return load.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose()
    {
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
