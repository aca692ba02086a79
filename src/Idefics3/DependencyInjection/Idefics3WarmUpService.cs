using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Idefics3.DependencyInjection;

/// <summary>
/// Loads one registration's model while the host starts (<see cref="Idefics3ServiceOptions.WarmUpOnStart"/>): the host's
/// start awaits the load, so the application serves its first request with the model ready. The load is the registry's
/// shared one, so a request that arrives during start-up awaits the same load.
/// </summary>
internal sealed partial class Idefics3WarmUpService : IHostedService
{
    private readonly Idefics3EngineRegistry _registry;
    private readonly string _model;
    private readonly Idefics3EngineOptions _options;
    private readonly ILogger _logger;

    public Idefics3WarmUpService(Idefics3EngineRegistry registry, string model, Idefics3EngineOptions options, ILoggerFactory? loggerFactory)
    {
        _registry = registry;
        _model = model;
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Idefics3WarmUpService>();
    }

    /// <summary>Awaits the model's load; the start token cancels the wait (the container's disposal cancels the load).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Idefics3Engine engine = await _registry.GetAsync(_model, _options, cancellationToken).ConfigureAwait(false);
        LogWarm(_logger, engine.ModelId);
    }

    /// <summary>Nothing to stop: the registry, a singleton, disposes the engine with the container.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 32, Level = LogLevel.Information, Message = "Model {ModelId} is loaded (warm-up at start)")]
    private static partial void LogWarm(ILogger logger, string modelId);
}
