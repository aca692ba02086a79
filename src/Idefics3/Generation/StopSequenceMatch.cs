namespace Idefics3.Generation;

/// <summary>What <see cref="StopSequenceMatcher.Append"/> found in one text delta.</summary>
/// <param name="Text">
/// Text that is now safe to emit: it can no longer be part of a stop sequence. Possibly empty. When
/// <see cref="StopSequence"/> is set, it is the rest of the output before the stop sequence.
/// </param>
/// <param name="StopSequence">The stop sequence that completed, or <see langword="null"/> when none did.</param>
internal readonly record struct StopSequenceMatch(string Text, string? StopSequence)
{
    /// <summary>Gets a value indicating whether a stop sequence completed: generation must end, and no further text is emitted.</summary>
    public bool IsStop => StopSequence is not null;
}
