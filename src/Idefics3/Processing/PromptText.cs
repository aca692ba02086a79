namespace Idefics3.Processing;

/// <summary>A text part.</summary>
/// <param name="Text">The text, rendered verbatim.</param>
public sealed record PromptText(string Text) : PromptContent;
