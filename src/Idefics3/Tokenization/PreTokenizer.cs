using System.Text.Json;
using System.Text.RegularExpressions;
using Idefics3.Configuration;

namespace Idefics3.Tokenization;

/// <summary>
/// The pre-tokenizer chain of a Hugging Face byte-level tokenizer: regex splits (<c>Split</c>, <c>ByteLevel</c> with
/// its GPT-2 regex) over code points (<see cref="CodePointRegex"/>) and <c>Digits</c> (<see cref="DigitSplitter"/>).
/// The final byte mapping is done by the BPE model.
/// </summary>
internal sealed class PreTokenizer
{
    /// <summary>The regex GPT-2 style ByteLevel pre-tokenizers use when <c>use_regex</c> is true.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly List<Action<string, List<string>>> _steps;

    private PreTokenizer(List<Action<string, List<string>>> steps)
    {
        _steps = steps;
    }

    /// <summary>Builds the chain for a plain GPT-2 byte-level tokenizer (slow vocab.json + merges.txt files).</summary>
    /// <returns>The chain.</returns>
    public static PreTokenizer Gpt2() => new([Isolated(Gpt2Pattern)]);

    /// <summary>Parses the <c>pre_tokenizer</c> node of tokenizer.json.</summary>
    /// <param name="node">The node (or default when absent).</param>
    /// <param name="file">The file name for error messages.</param>
    /// <returns>The chain.</returns>
    /// <exception cref="ConfigurationException">A step is not supported.</exception>
    public static PreTokenizer FromJson(JsonElement node, string file)
    {
        var steps = new List<Action<string, List<string>>>();
        Add(node, steps, file);
        return new PreTokenizer(steps);
    }

    /// <summary>Splits a text segment into pre-tokens.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The pieces in order.</returns>
    public List<string> Split(string text)
    {
        var pieces = new List<string> { text };
        foreach (var step in _steps)
        {
            var next = new List<string>(pieces.Count * 2);
            foreach (string piece in pieces)
            {
                step(piece, next);
            }

            pieces = next;
        }

        return pieces;
    }

    private static void Add(JsonElement node, List<Action<string, List<string>>> steps, string file)
    {
        if (node.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
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
                    steps.Add(Isolated(Gpt2Pattern));
                }

                break;
            case "Split":
                steps.Add(SplitStep(node, file));
                break;
            case "Digits":
                {
                    bool individual = node.TryGetProperty("individual_digits", out var d) && d.ValueKind == JsonValueKind.True;
                    steps.Add((s, output) => DigitSplitter.Split(s, individual, output));
                    break;
                }

            default:
                throw new ConfigurationException(file, "pre_tokenizer.type", $"pre-tokenizer '{type}' is not supported.");
        }
    }

    private static Action<string, List<string>> SplitStep(JsonElement node, string file)
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
        var compiled = new CodePointRegex(regex);
        return behavior switch
        {
            "Isolated" => (s, output) => compiled.Split(s, keepMatches: true, output),
            "Removed" => (s, output) => compiled.Split(s, keepMatches: false, output),
            _ => throw new ConfigurationException(file, "pre_tokenizer.behavior", $"Split behavior '{behavior}' is not supported."),
        };
    }

    private static Action<string, List<string>> Isolated(string pattern)
    {
        var compiled = new CodePointRegex(pattern);
        return (s, output) => compiled.Split(s, keepMatches: true, output);
    }
}
