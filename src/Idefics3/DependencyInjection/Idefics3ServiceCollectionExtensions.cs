using Idefics3;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Idefics3 / SmolVLM chat clients in an <see cref="IServiceCollection"/>.</summary>
public static class Idefics3ServiceCollectionExtensions
{
    /// <summary>
    /// Registers an <see cref="IChatClient"/> over a local Idefics3 / SmolVLM model and returns its
    /// <see cref="ChatClientBuilder"/>, so middleware chains (<c>.UseLogging()</c>, <c>.UseOpenTelemetry()</c>,
    /// <c>.UseDistributedCache()</c>). The options are validated here; the model loads when the client is first resolved,
    /// and registrations naming the same model share one loaded model.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="model">A model folder or Hugging Face repository id (<c>org/name[@revision]</c>).</param>
    /// <param name="configure">Adjusts engine and client options.</param>
    /// <returns>The chat client builder.</returns>
    public static ChatClientBuilder AddIdefics3ChatClient(this IServiceCollection services, string model, Action<Idefics3ServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        Idefics3ServiceOptions options = Build(model, configure);
        services.TryAddSingleton(sp => new Idefics3EngineRegistry(sp.GetService<ILoggerFactory>()));
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
        Idefics3ServiceOptions options = Build(model, configure);
        services.TryAddSingleton(sp => new Idefics3EngineRegistry(sp.GetService<ILoggerFactory>()));
        return services.AddKeyedChatClient(serviceKey, sp => Create(sp, options));
    }

    private static Idefics3ServiceOptions Build(string model, Action<Idefics3ServiceOptions>? configure)
    {
        var options = new Idefics3ServiceOptions { Model = model };
        configure?.Invoke(options);
        options.Validate();
        return options;
    }

    private static Idefics3ChatClient Create(IServiceProvider services, Idefics3ServiceOptions options)
    {
        Idefics3EngineRegistry registry = services.GetRequiredService<Idefics3EngineRegistry>();
        Idefics3Engine engine = registry.GetAsync(options.Model, options.Engine).GetAwaiter().GetResult();
        // The engine is shared, so its model id is the first registration's; each registration reports its own.
        Idefics3ChatClientOptions client = options.Client;
        if (client.ModelId is null && options.Engine.ModelId is { } engineModelId)
        {
            client = client.Clone();
            client.ModelId = engineModelId;
        }

        return new Idefics3ChatClient(engine, client, services.GetService<ILoggerFactory>());
    }
}
