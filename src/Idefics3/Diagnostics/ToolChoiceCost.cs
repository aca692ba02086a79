namespace Idefics3.Diagnostics;

/// <summary>Per-token costs of the tool-call constraint under one tool choice.</summary>
/// <param name="Choice">The tool choice: <c>RequireAny</c> (a call must be made) or <c>Auto</c> (text or a call).</param>
/// <param name="CheckMilliseconds">Per token: the check of the pick plus the accept.</param>
/// <param name="MaskMilliseconds">Per token: the check, the full mask when the pick was rejected (random logits: almost always), and the accept.</param>
public sealed record ToolChoiceCost(string Choice, IReadOnlyList<double> CheckMilliseconds, IReadOnlyList<double> MaskMilliseconds);
