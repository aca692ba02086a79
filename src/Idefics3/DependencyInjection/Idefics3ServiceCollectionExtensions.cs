using System.Diagnostics.Metrics;
using Idefics3;
using Idefics3.ChatClient;
using Idefics3.DependencyInjection;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Idefics3 / SmolVLM chat clients in an <see cref="IServiceCollection"/>.</summary>
public static class Idefics3ServiceCollectionExtensions
{
    /// <summary>
    /// Registers an <see cref="IChatClient"/> over a local Idefics3 / SmolVLM model and returns its
    /// <see cref="ChatClientBuilder"/>, so middleware chains (<c>.UseLogging()</c>, <c>.UseOpenTelemetry()</c>,
    /// <c>.UseDistributedCache()</c>). The options are validated here. Resolving the client never waits on the model:
    /// it loads asynchronously on the first request (concurrent first requests share one load; a failed load is that
    /// request's exception and the next request loads again), or at host start-up with
    /// <see cref="Idefics3ServiceOptions.WarmUpOnStart"/>, or when <see cref="Idefics3ChatClient.WarmUpAsync"/> is called.
    /// Registrations naming the same model share one loaded model; disposing the container disposes it.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="model">A model folder or Hugging Face repository id (<c>org/name[@revision]</c>).</param>
    /// <param name="configure">Adjusts engine and client options.</param>
    /// <returns>The chat client builder.</returns>
    public static ChatClientBuilder AddIdefics3ChatClient(this IServiceCollection services, string model, Action<Idefics3ServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        Idefics3ServiceOptions options = Register(services, model, configure);
        return services.AddChatClient(sp => Create(sp, options));
    }

    /// <summary>Registers a keyed <see cref="IChatClient"/> (see <see cref="AddIdefics3ChatClient"/>).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key the client is registered under.</param>
    /// <param name="model">A model folder or Hugging Face repository id.</param>
    /// <param name="configure">Adjusts engine and client options.</param>
    /// <returns>The chat client builder.</returns>
    public static ChatClientBuilder AddKeyedIdefics3ChatClient(this IServiceCollection services, object? serviceKey, string model, Action<Idefics3ServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        Idefics3ServiceOptions options = Register(services, model, configure);
        return services.AddKeyedChatClient(serviceKey, sp => Create(sp, options));
    }

    /// <summary>Validates the options and registers the shared registry and, when asked, the registration's warm-up.</summary>
    private static Idefics3ServiceOptions Register(IServiceCollection services, string model, Action<Idefics3ServiceOptions>? configure)
    {
        var options = new Idefics3ServiceOptions { Model = model };
        configure?.Invoke(options);
        options.Validate();
        services.TryAddSingleton(sp => new Idefics3EngineRegistry(sp.GetService<ILoggerFactory>()));
        if (options.WarmUpOnStart)
        {
            // One hosted service per registration (not TryAddEnumerable): each warms its own model, device and dtype.
            services.AddSingleton<IHostedService>(sp => new Idefics3WarmUpService(
                sp.GetRequiredService<Idefics3EngineRegistry>(), options.Model, EngineOptions(sp, options), sp.GetService<ILoggerFactory>()));
        }

        return options;
    }

    /// <summary>The registration's client: returns at once; the model loads on the first request (or at warm-up).</summary>
    private static Idefics3ChatClient Create(IServiceProvider services, Idefics3ServiceOptions options)
    {
        Idefics3EngineRegistry registry = services.GetRequiredService<Idefics3EngineRegistry>();
        // The engine is shared, so its own model id is the first registration's; each registration reports its own.
        string modelId = Idefics3Engine.ModelIdOf(options.Model, options.Engine);
        return new Idefics3ChatClient(EngineSource.Lazy(registry, options.Model, EngineOptions(services, options)), modelId, options.Client, services.GetService<ILoggerFactory>());
    }

    /// <summary>The registration's engine options for this container: its <see cref="IMeterFactory"/> unless one was set.</summary>
    private static Idefics3EngineOptions EngineOptions(IServiceProvider services, Idefics3ServiceOptions options)
    {
        Idefics3EngineOptions engine = options.Engine.Clone();
        engine.MeterFactory ??= services.GetService<IMeterFactory>();
        return engine;
    }
}
