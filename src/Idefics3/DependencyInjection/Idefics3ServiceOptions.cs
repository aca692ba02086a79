namespace Idefics3;

/// <summary>What a dependency-injection registration of an Idefics3 chat client loads and how.</summary>
public sealed class Idefics3ServiceOptions
{
    /// <summary>Gets or sets the model: a local folder or a Hugging Face repository id (<c>org/name[@revision]</c>).</summary>
    public string Model { get; set; } = string.Empty;

    /// <summary>Gets the engine options (device, dtype, concurrency, caches).</summary>
    public Idefics3EngineOptions Engine { get; } = new();

    /// <summary>Gets the chat client options (content mapping, URI fetching).</summary>
    public Idefics3ChatClientOptions Client { get; } = new();

    /// <summary>
    /// Gets or sets a value indicating whether the model loads while the host starts. When true the registration adds an
    /// <see cref="Microsoft.Extensions.Hosting.IHostedService"/> whose <c>StartAsync</c> awaits the load, so the first
    /// request does not wait for it and a model that cannot load stops the host from starting (its exception is the
    /// start's). Only a host (<c>IHost</c>) runs hosted services; without one, call
    /// <see cref="Idefics3ChatClient.WarmUpAsync"/>. Default false: the model loads on the first request.
    /// </summary>
    public bool WarmUpOnStart { get; set; }

    /// <summary>Checks the options; called when the registration is made, so mistakes surface at start-up.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Model))
        {
            throw new ArgumentException("Idefics3ServiceOptions.Model must name a model folder or a Hugging Face repository id.", nameof(Model));
        }

        // The same test the engine applies when it loads, made here so that a mistyped folder fails at registration.
        if (!Directory.Exists(Model) &&
            (!Hub.HubRepoReference.TryParse(Model, out _) || Model.StartsWith('.') || Path.IsPathRooted(Model)))
        {
            throw new ArgumentException(
                $"Idefics3ServiceOptions.Model '{Model}' is neither an existing model folder nor a Hugging Face repository id like 'org/name'.", nameof(Model));
        }

        Engine.Validate();
        Client.Validate();
    }
}
