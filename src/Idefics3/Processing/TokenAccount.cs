namespace Idefics3.Processing;

/// <summary>Token accounting of a prompt, for context budgeting.</summary>
/// <param name="TotalTokens">All ids, BOS included.</param>
/// <param name="TextTokens">Ids that are not <c>&lt;image&gt;</c> placeholders (text, BOS, fake/row/global markers).</param>
/// <param name="ImageTokens">Ids equal to the <c>&lt;image&gt;</c> token (replaced by vision features).</param>
/// <param name="FramesPerImage">Frames (tiles + global) of each image, in order.</param>
public sealed record TokenAccount(int TotalTokens, int TextTokens, int ImageTokens, IReadOnlyList<int> FramesPerImage);
