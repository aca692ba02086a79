namespace Idefics3.Tokenization;

/// <summary>A token from the <c>added_tokens</c> list of tokenizer.json: matched in the raw text before BPE.</summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The exact text of the token.</param>
/// <param name="Special">Whether the token is special (skipped by decode when special tokens are skipped).</param>
/// <param name="LeftStrip">Whether whitespace on the left is absorbed into the token.</param>
/// <param name="RightStrip">Whether whitespace on the right is absorbed into the token.</param>
internal sealed record AddedToken(int Id, string Content, bool Special, bool LeftStrip = false, bool RightStrip = false);
