namespace Idefics3.Tokenization;

/// <summary>Splits raw text around added tokens (leftmost-longest match, as Hugging Face tokenizers).</summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    /// <summary>Splits the text into plain-text segments and added-token segments.</summary>
    public List<Segment> Split(string text)
    {
        var result = new List<Segment>();
        if (_byFirstChar.Count == 0)
        {
            if (text.Length > 0)
            {
                result.Add(new Segment(text, -1));
            }

            return result;
        }

        int segmentStart = 0;
        int i = 0;
        while (i < text.Length)
        {
            AddedToken? hit = null;
            if (_byFirstChar.TryGetValue(text[i], out var candidates))
            {
                foreach (var candidate in candidates)
                {
                    if (string.CompareOrdinal(text, i, candidate.Content, 0, candidate.Content.Length) == 0)
                    {
                        hit = candidate;
                        break;
                    }
                }
            }

            if (hit is null)
            {
                i++;
                continue;
            }

            int textEnd = i;
            if (hit.LeftStrip)
            {
                while (textEnd > segmentStart && char.IsWhiteSpace(text[textEnd - 1]))
                {
                    textEnd--;
                }
            }

            if (textEnd > segmentStart)
            {
                result.Add(new Segment(text[segmentStart..textEnd], -1));
            }

            result.Add(new Segment(null, hit.Id));
            i += hit.Content.Length;
            if (hit.RightStrip)
            {
                while (i < text.Length && char.IsWhiteSpace(text[i]))
                {
                    i++;
                }
            }

            segmentStart = i;
        }

        if (segmentStart < text.Length)
        {
            result.Add(new Segment(text[segmentStart..], -1));
        }

        return result;
    }

    /// <summary>A piece of text (<see cref="AddedId"/> is -1) or an added token.</summary>
    internal readonly record struct Segment(string? Text, int AddedId);
}
