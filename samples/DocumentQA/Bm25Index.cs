using System.Globalization;
using System.Text;

namespace Idefics3.Samples.DocumentQA;

/// <summary>A scored search result.</summary>
public sealed record SearchHit<T>(T Item, double Score);

/// <summary>
/// Okapi BM25 over short documents (here: pages). Each term of the query adds
/// <c>IDF(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avgLen))</c>, with
/// <c>IDF(t) = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5))</c> (always positive), where <c>tf</c> is the term's count in the
/// page, <c>len</c> the page's length in terms, <c>N</c> the number of pages and <c>n(t)</c> how many contain the term.
/// </summary>
public sealed class Bm25Index<T>
{
    private readonly List<(T Item, Dictionary<string, int> Terms, int Length)> _documents = [];
    private readonly Dictionary<string, int> _documentFrequency = new(StringComparer.Ordinal);
    private long _totalLength;

    /// <param name="k1">Term-frequency saturation (1.2 to 2.0 is usual).</param>
    /// <param name="b">Length normalisation, 0 (none) to 1 (full).</param>
    public Bm25Index(double k1 = 1.2, double b = 0.75)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k1);
        if (b is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(b), b, "Must be between 0 and 1.");
        }

        K1 = k1;
        B = b;
    }

    public double K1 { get; }

    public double B { get; }

    public int Count => _documents.Count;

    public double AverageLength => _documents.Count == 0 ? 0 : (double)_totalLength / _documents.Count;

    public void Add(T item, string text)
    {
        var terms = new Dictionary<string, int>(StringComparer.Ordinal);
        int length = 0;
        foreach (string term in Bm25Tokenizer.Tokenize(text))
        {
            terms[term] = terms.GetValueOrDefault(term) + 1;
            length++;
        }

        foreach (string term in terms.Keys)
        {
            _documentFrequency[term] = _documentFrequency.GetValueOrDefault(term) + 1;
        }

        _documents.Add((item, terms, length));
        _totalLength += length;
    }

    /// <summary>The inverse document frequency of a (normalised) term.</summary>
    public double Idf(string term)
    {
        int n = _documentFrequency.GetValueOrDefault(term);
        return Math.Log(1 + ((_documents.Count - n + 0.5) / (n + 0.5)));
    }

    /// <summary>The best <paramref name="top"/> documents for <paramref name="query"/>; documents sharing no term with it are left out.</summary>
    public IReadOnlyList<SearchHit<T>> Search(string query, int top)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        string[] queryTerms = Bm25Tokenizer.Tokenize(query).Distinct(StringComparer.Ordinal).ToArray();
        double averageLength = Math.Max(AverageLength, 1e-9);
        var hits = new List<SearchHit<T>>();
        foreach ((T item, Dictionary<string, int> terms, int length) in _documents)
        {
            double score = 0;
            foreach (string term in queryTerms)
            {
                if (terms.TryGetValue(term, out int tf))
                {
                    double norm = K1 * (1 - B + (B * length / averageLength));
                    score += Idf(term) * tf * (K1 + 1) / (tf + norm);
                }
            }

            if (score > 0)
            {
                hits.Add(new SearchHit<T>(item, score));
            }
        }

        // Stable: equal scores keep ingestion order.
        return hits.OrderByDescending(h => h.Score).Take(top).ToList();
    }
}

/// <summary>The tokenizer of <see cref="Bm25Index{T}"/>.</summary>
public static class Bm25Tokenizer
{
    /// <summary>
    /// Splits text into normalised terms: Unicode letters and digits, lower-cased, accents removed, English stop words (and the "s" of possessives)
    /// dropped, and a light plural folding (<c>batteries</c> → <c>battery</c>, <c>visitors</c> → <c>visitor</c>).
    /// </summary>
    public static IEnumerable<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string folded = RemoveAccents(text);
        var current = new StringBuilder();
        foreach (char c in folded)
        {
            if (char.IsLetterOrDigit(c))
            {
                current.Append(char.ToLowerInvariant(c));
                continue;
            }

            if (current.Length > 0)
            {
                if (Normalize(current.ToString()) is string term)
                {
                    yield return term;
                }

                current.Clear();
            }
        }

        if (current.Length > 0 && Normalize(current.ToString()) is string last)
        {
            yield return last;
        }
    }

    private static string? Normalize(string token)
    {
        if (_stopWords.Contains(token))
        {
            return null;
        }

        if (token.Length > 4 && token.EndsWith("ies", StringComparison.Ordinal))
        {
            return string.Concat(token.AsSpan(0, token.Length - 3), "y");
        }

        if (token.Length > 3 && token[^1] == 's' && token[^2] is not ('s' or 'u' or 'i') && !char.IsDigit(token[^2]))
        {
            return token[..^1];
        }

        return token;
    }

    private static string RemoveAccents(string text)
    {
        string decomposed = text.Normalize(NormalizationForm.FormD);
        var kept = new StringBuilder(decomposed.Length);
        foreach (char c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                kept.Append(c);
            }
        }

        return kept.ToString();
    }

    private static readonly HashSet<string> _stopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "did", "do", "does", "for", "from", "had", "has", "have",
        "how", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "s", "should", "so", "t", "that", "the", "their",
        "there", "these", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "why", "will",
        "with", "you", "your",
    };
}
