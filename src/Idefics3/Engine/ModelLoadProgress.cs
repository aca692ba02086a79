namespace Idefics3;

/// <summary>Progress of <see cref="Idefics3Engine.LoadAsync"/>.</summary>
/// <param name="Stage">What is happening: <c>resolve</c>, <c>download</c>, <c>configuration</c>, <c>processor</c>, <c>weights</c> or <c>ready</c>.</param>
/// <param name="Fraction">Overall progress from 0 to 1.</param>
/// <param name="Message">A human-readable description of the step.</param>
public sealed record ModelLoadProgress(string Stage, double Fraction, string Message);
