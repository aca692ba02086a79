using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Idefics3.SemanticKernel;

/// <summary>Adds Idefics3 / SmolVLM chat to a Semantic Kernel <see cref="IKernelBuilder"/> or service collection.</summary>
public static class Idefics3KernelBuilderExtensions
{
    /// <summary>
    /// Registers an <see cref="IChatCompletionService"/> (and the <see cref="IChatClient"/> under it) for a local model.
    /// Options are validated here; the model loads on first use and is shared with other registrations of it.
    /// </summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="model">A model folder or Hugging Face repository id (<c>org/name[@revision]</c>).</param>
    /// <param name="configure">Adjusts engine and client options.</param>
    /// <param name="serviceId">The service key, or null for the default service.</param>
    /// <returns>The kernel builder.</returns>
    public static IKernelBuilder AddIdefics3ChatCompletion(this IKernelBuilder builder, string model, Action<Idefics3ServiceOptions>? configure = null, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddIdefics3ChatCompletion(model, configure, serviceId);
        return builder;
    }

    /// <summary>Registers an <see cref="IChatClient"/> for a local model in a kernel builder (SK's IChatClient path).</summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="model">A model folder or Hugging Face repository id.</param>
    /// <param name="configure">Adjusts engine and client options.</param>
    /// <param name="serviceId">The service key, or null for the default service.</param>
    /// <returns>The kernel builder.</returns>
    public static IKernelBuilder AddIdefics3ChatClient(this IKernelBuilder builder, string model, Action<Idefics3ServiceOptions>? configure = null, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        _ = serviceId is null
            ? builder.Services.AddIdefics3ChatClient(model, configure)
            : builder.Services.AddKeyedIdefics3ChatClient(serviceId, model, configure);
        return builder;
    }

    /// <summary>Registers an <see cref="IChatCompletionService"/> (and its <see cref="IChatClient"/>) in a service collection.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="model">A model folder or Hugging Face repository id.</param>
    /// <param name="configure">Adjusts engine and client options.</param>
    /// <param name="serviceId">The service key, or null for the default service.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddIdefics3ChatCompletion(this IServiceCollection services, string model, Action<Idefics3ServiceOptions>? configure = null, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (serviceId is null)
        {
            services.AddIdefics3ChatClient(model, configure);
            services.AddSingleton<IChatCompletionService>(sp => new Idefics3ChatCompletionService(sp.GetRequiredService<IChatClient>(), sp));
        }
        else
        {
            services.AddKeyedIdefics3ChatClient(serviceId, model, configure);
            services.AddKeyedSingleton<IChatCompletionService>(
                serviceId, (sp, key) => new Idefics3ChatCompletionService(sp.GetRequiredKeyedService<IChatClient>(key), sp));
        }

        return services;
    }
}
