namespace Idefics3.ChatClient;

/// <summary>
/// What a chat client runs on: an engine it was given, or a model that a registry loads on the first request (the
/// dependency-injection path, where resolving the client must not wait on a load).
/// </summary>
internal sealed class EngineSource
{
    private readonly Idefics3EngineRegistry? _registry;
    private readonly string _model;
    private readonly Idefics3EngineOptions _options;
    private readonly Idefics3Engine? _engine;

    private EngineSource(Idefics3Engine? engine, Idefics3EngineRegistry? registry, string model, Idefics3EngineOptions options)
    {
        _engine = engine;
        _registry = registry;
        _model = model;
        _options = options;
    }

    /// <summary>Gets the engine when it is loaded; null before the first request of a lazily loaded model.</summary>
    public Idefics3Engine? Current => _engine ?? _registry?.TryGetLoaded(_model, _options);

    /// <summary>A source over an engine that is already loaded.</summary>
    public static EngineSource Loaded(Idefics3Engine engine) => new(engine, null, engine.ModelPath, engine.Options);

    /// <summary>A source whose model <paramref name="registry"/> loads (once, shared) when a request first needs it.</summary>
    public static EngineSource Lazy(Idefics3EngineRegistry registry, string model, Idefics3EngineOptions options) =>
        new(null, registry, model, options.Clone());

    /// <summary>Gets the engine, awaiting the shared load when the model is not loaded yet.</summary>
    /// <param name="cancellationToken">Cancels this wait only, never the load other requests share.</param>
    public ValueTask<Idefics3Engine> GetAsync(CancellationToken cancellationToken) =>
        _engine is { } engine ? ValueTask.FromResult(engine) : new ValueTask<Idefics3Engine>(_registry!.GetAsync(_model, _options, cancellationToken));
}
