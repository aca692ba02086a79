namespace Idefics3.Processing;

/// <summary>A part of a <see cref="PromptMessage"/>: <see cref="PromptText"/> or <see cref="PromptImage"/>.</summary>
public abstract record PromptContent;
