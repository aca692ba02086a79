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
