namespace Idefics3.Processing;

/// <summary>
/// One message of a neutral conversation, shared by the Microsoft.Extensions.AI and Semantic Kernel surfaces. Contents
/// keep their order: an image renders as <c>&lt;image&gt;</c> exactly where it sits among the texts.
/// </summary>
/// <param name="Role">The role (<c>user</c>, <c>assistant</c>, <c>system</c>); the template capitalises it.</param>
/// <param name="Contents">The ordered text and image parts.</param>
public sealed record PromptMessage(string Role, IReadOnlyList<PromptContent> Contents)
{
    /// <summary>Creates a message from parts.</summary>
    /// <param name="role">The role.</param>
    /// <param name="contents">The parts, in order.</param>
    /// <returns>The message.</returns>
    public static PromptMessage Create(string role, params PromptContent[] contents) => new(role, contents);

    /// <summary>Creates a text-only message.</summary>
    /// <param name="role">The role.</param>
    /// <param name="text">The text.</param>
    /// <returns>The message.</returns>
    public static PromptMessage FromText(string role, string text) => new(role, [new PromptText(text)]);
}
