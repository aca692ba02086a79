using System.Text.Json;
using System.Text.RegularExpressions;
using Idefics3.Configuration;

namespace Idefics3.Tokenization;

/// <summary>
/// The pre-tokenizer chain of a Hugging Face byte-level tokenizer: regex splits (Split, ByteLevel with its GPT-2
/// regex) and Digits. The final byte mapping is done by the BPE model.
/// </summary>
internal sealed class PreTokenizer
{
    /// <summary>The regex GPT-2 style ByteLevel pre-tokenizers use when <c>use_regex</c> is true.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly List<Func<string, IEnumerable<string>>> _steps;

    private PreTokenizer(List<Func<string, IEnumerable<string>>> steps)
    {
        _steps = steps;
    }

    /// <summary>Builds the chain for a plain GPT-2 byte-level tokenizer (slow vocab.json + merges.txt files).</summary>
    public static PreTokenizer Gpt2() => new([RegexSplit(Gpt2Pattern)]);

    /// <summary>Parses the <c>pre_tokenizer</c> node of tokenizer.json.</summary>
    public static PreTokenizer FromJson(JsonElement node, string file)
    {
        var steps = new List<Func<string, IEnumerable<string>>>();
        Add(node, steps, file);
        return new PreTokenizer(steps);
    }

    /// <summary>Splits a text segment into pre-tokens.</summary>
    public List<string> Split(string text)
    {
        var pieces = new List<string> { text };
        foreach (var step in _steps)
        {
            var next = new List<string>(pieces.Count * 2);
            foreach (string piece in pieces)
            {
                next.AddRange(step(piece));
            }

            pieces = next;
        }

        return pieces;
    }

    private static void Add(JsonElement node, List<Func<string, IEnumerable<string>>> steps, string file)
    {
        if (node.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        string type = node.GetProperty("type").GetString() ?? string.Empty;
        switch (type)
        {
            case "Sequence":
                foreach (var child in node.GetProperty("pretokenizers").EnumerateArray())
                {
                    Add(child, steps, file);
                }

                break;
            case "ByteLevel":
                if (node.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
                {
                    throw new ConfigurationException(file, "pre_tokenizer.add_prefix_space", "add_prefix_space=true is not supported.");
                }

                if (!node.TryGetProperty("use_regex", out var useRegex) || useRegex.ValueKind != JsonValueKind.False)
                {
                    steps.Add(RegexSplit(Gpt2Pattern));
                }

                break;
            case "Split":
                {
                    var pattern = node.GetProperty("pattern");
                    string behavior = node.TryGetProperty("behavior", out var b) ? b.GetString() ?? "Isolated" : "Isolated";
                    if (node.TryGetProperty("invert", out var inv) && inv.ValueKind == JsonValueKind.True)
                    {
                        throw new ConfigurationException(file, "pre_tokenizer.invert", "inverted Split is not supported.");
                    }

                    string regex = pattern.TryGetProperty("Regex", out var r)
                        ? r.GetString() ?? string.Empty
                        : Regex.Escape(pattern.GetProperty("String").GetString() ?? string.Empty);
                    if (behavior == "Isolated")
                    {
                        steps.Add(RegexSplit(regex));
                    }
                    else if (behavior == "Removed")
                    {
                        var re = new Regex(regex, RegexOptions.Compiled | RegexOptions.CultureInvariant);
                        steps.Add(s => re.Split(s).Where(p => p.Length > 0));
                    }
                    else
                    {
                        throw new ConfigurationException(file, "pre_tokenizer.behavior", $"Split behavior '{behavior}' is not supported.");
                    }

                    break;
                }

            case "Digits":
                {
                    bool individual = node.TryGetProperty("individual_digits", out var d) && d.ValueKind == JsonValueKind.True;
                    steps.Add(s => SplitDigits(s, individual));
                    break;
                }

            default:
                throw new ConfigurationException(file, "pre_tokenizer.type", $"pre-tokenizer '{type}' is not supported.");
        }
    }

    private static Func<string, IEnumerable<string>> RegexSplit(string pattern)
    {
        var regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        return s => IsolatedSplit(regex, s);
    }

    private static List<string> IsolatedSplit(Regex regex, string text)
    {
        var result = new List<string>();
        int last = 0;
        foreach (var m in regex.EnumerateMatches(text))
        {
            if (m.Length == 0)
            {
                continue;
            }

            if (m.Index > last)
            {
                result.Add(text[last..m.Index]);
            }

            result.Add(text.Substring(m.Index, m.Length));
            last = m.Index + m.Length;
        }

        if (last < text.Length)
        {
            result.Add(text[last..]);
        }

        return result;
    }

    private static List<string> SplitDigits(string text, bool individual)
    {
        var result = new List<string>();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            bool digit = char.IsDigit(text[i]) || char.GetUnicodeCategory(text[i]) is System.Globalization.UnicodeCategory.LetterNumber or System.Globalization.UnicodeCategory.OtherNumber;
            if (!digit)
            {
                continue;
            }

            if (individual)
            {
                if (i > start)
                {
                    result.Add(text[start..i]);
                }

                result.Add(text.Substring(i, 1));
                start = i + 1;
            }
            else
            {
                int j = i;
                while (j < text.Length && char.IsDigit(text[j]))
                {
                    j++;
                }

                if (i > start)
                {
                    result.Add(text[start..i]);
                }

                result.Add(text[i..j]);
                start = j;
                i = j - 1;
            }
        }

        if (start < text.Length)
        {
            result.Add(text[start..]);
        }

        return result;
    }
}
