using System.Collections.Concurrent;

namespace Idefics3.Tokenization;

/// <summary>
/// The pre-token → ids cache of the BPE model, safe for concurrent readers and writers. Bounded: when it holds
/// <see cref="MaxEntries"/> words it is emptied, so memory stays flat on an endless stream of new words.
/// </summary>
internal sealed class WordCache
{
    /// <summary>The most words held at once.</summary>
    public const int MaxEntries = 200_000;

    private readonly ConcurrentDictionary<string, int[]> _entries = new(StringComparer.Ordinal);
    private int _count;

    /// <summary>Looks a word up.</summary>
    /// <param name="word">The pre-token.</param>
    /// <param name="ids">Its ids when cached.</param>
    /// <returns>Whether it was cached.</returns>
    public bool TryGet(string word, out int[]? ids) => _entries.TryGetValue(word, out ids);

    /// <summary>Stores a word's ids.</summary>
    /// <param name="word">The pre-token.</param>
    /// <param name="ids">Its ids.</param>
    public void Add(string word, int[] ids)
    {
        if (Volatile.Read(ref _count) >= MaxEntries)
        {
            _entries.Clear();
            Volatile.Write(ref _count, 0);
        }

        if (_entries.TryAdd(word, ids))
        {
            Interlocked.Increment(ref _count);
        }
    }
}
