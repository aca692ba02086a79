using System.Text;

namespace Idefics3.Generation;

/// <summary>
/// Finds stop sequences in streamed, decoded text with hold-back. Text arrives in deltas (<see cref="Append"/>); the
/// matcher emits only text that can no longer be the start of a stop sequence and holds the rest back. When a stop
/// sequence completes, possibly spread over many deltas, it reports it and emits the text before it; no part of the
/// stop sequence is ever emitted. At the end of generation, <see cref="Flush"/> returns the held-back text.
/// </summary>
/// <remarks>
/// Matching is ordinal on UTF-16 text, with no normalization. When several stop sequences occur, the one that starts
/// first wins (the longest, when several start at the same place). A delta that ends with a lone high surrogate keeps
/// that character back, so emitted text never splits a surrogate pair. With no stop sequences every delta is emitted
/// unchanged. An instance is not thread-safe.
/// </remarks>
internal sealed class StopSequenceMatcher
{
    private readonly string[] _stops;
    private readonly int _longestStop;
    private readonly StringBuilder _held = new();
    private string? _matched;

    /// <summary>Initializes a new instance of the <see cref="StopSequenceMatcher"/> class.</summary>
    /// <param name="stopSequences">The stop sequences; none may be null or empty. Duplicates are allowed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stopSequences"/> is null.</exception>
    /// <exception cref="ArgumentException">A stop sequence is null or empty.</exception>
    public StopSequenceMatcher(IEnumerable<string> stopSequences)
    {
        ArgumentNullException.ThrowIfNull(stopSequences);
        _stops = [.. stopSequences.Distinct(StringComparer.Ordinal)];
        if (_stops.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Stop sequences must not be null or empty.", nameof(stopSequences));
        }

        _longestStop = _stops.Length == 0 ? 0 : _stops.Max(s => s.Length);
    }

    /// <summary>Gets the stop sequence that completed, or <see langword="null"/> while none has.</summary>
    public string? MatchedStopSequence => _matched;

    /// <summary>Gets a value indicating whether a stop sequence has completed.</summary>
    public bool IsStopped => _matched is not null;

    /// <summary>Gets the number of characters currently held back.</summary>
    public int HeldBackLength => _held.Length;

    /// <summary>Adds a delta of decoded text.</summary>
    /// <param name="delta">The new text; may be empty.</param>
    /// <returns>The text now safe to emit, and the stop sequence when one completed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="delta"/> is null.</exception>
    /// <exception cref="InvalidOperationException">A stop sequence already completed.</exception>
    public StopSequenceMatch Append(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (_matched is not null)
        {
            throw new InvalidOperationException($"Stop sequence '{_matched}' already completed; no more text may be appended.");
        }

        if (delta.Length == 0)
        {
            return new StopSequenceMatch(string.Empty, null);
        }

        if (_stops.Length == 0 && _held.Length == 0 && !char.IsHighSurrogate(delta[^1]))
        {
            return new StopSequenceMatch(delta, null);
        }

        _held.Append(delta);
        string buffer = _held.ToString();

        // Earliest complete occurrence: nothing emitted before can start one (it was emitted only when no stop could
        // start there), so searching the held-back text is enough.
        int bestStart = -1;
        string? best = null;
        foreach (string stop in _stops)
        {
            int at = buffer.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (bestStart < 0 || at < bestStart || (at == bestStart && stop.Length > best!.Length)))
            {
                bestStart = at;
                best = stop;
            }
        }

        if (best is not null)
        {
            _matched = best;
            _held.Clear();
            return new StopSequenceMatch(buffer[..bestStart], best);
        }

        int hold = LongestSuffixThatStartsAStop(buffer);
        if (hold == 0 && char.IsHighSurrogate(buffer[^1]))
        {
            hold = 1;
        }

        _held.Clear();
        _held.Append(buffer, buffer.Length - hold, hold);
        return new StopSequenceMatch(buffer[..^hold], null);
    }

    /// <summary>
    /// Ends the text: returns what is held back (empty when a stop sequence completed, since that text follows the
    /// stop) and resets the hold-back.
    /// </summary>
    /// <returns>The held-back text.</returns>
    public string Flush()
    {
        string rest = _matched is null ? _held.ToString() : string.Empty;
        _held.Clear();
        return rest;
    }

    private int LongestSuffixThatStartsAStop(string buffer)
    {
        int max = Math.Min(buffer.Length, _longestStop - 1);
        for (int length = max; length > 0; length--)
        {
            ReadOnlySpan<char> suffix = buffer.AsSpan(buffer.Length - length);
            foreach (string stop in _stops)
            {
                if (stop.Length > length && stop.AsSpan().StartsWith(suffix, StringComparison.Ordinal))
                {
                    return length;
                }
            }
        }

        return 0;
    }
}
