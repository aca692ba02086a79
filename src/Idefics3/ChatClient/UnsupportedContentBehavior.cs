namespace Idefics3;

/// <summary>What <see cref="Idefics3ChatClient"/> does with message content it cannot give to the model.</summary>
public enum UnsupportedContentBehavior
{
    /// <summary>Throw a <see cref="NotSupportedException"/> that names the content (the default).</summary>
    Throw,

    /// <summary>Leave the content out of the prompt and log a warning that names it.</summary>
    Warn,

    /// <summary>Leave the content out of the prompt without a warning. Use only when dropping is what you want.</summary>
    Ignore,
}
