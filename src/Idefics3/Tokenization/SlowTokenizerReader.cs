using System.Globalization;
using System.Text.Json;
using Idefics3.Configuration;

namespace Idefics3.Tokenization;

/// <summary>
/// Reads a slow GPT-2 style tokenizer (<c>vocab.json</c> + <c>merges.txt</c>, and from <c>tokenizer_config.json</c> the
/// added tokens and the <c>add_bos_token</c> rule) into a <see cref="TokenizerModel"/> with the GPT-2 pre-tokenizer.
/// </summary>
internal static class SlowTokenizerReader
{
    /// <summary>Reads the files.</summary>
    /// <param name="vocabPath">Path of vocab.json.</param>
    /// <param name="mergesPath">Path of merges.txt.</param>
    /// <param name="tokenizerConfigPath">Path of tokenizer_config.json, or null.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ConfigurationException">A file is malformed or the BOS token is unknown.</exception>
    public static TokenizerModel Read(string vocabPath, string mergesPath, string? tokenizerConfigPath)
    {
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
            ?? throw new ConfigurationException("vocab.json", "(root)", "empty vocabulary.");
        var merges = new List<(string, string)>();
        foreach (string line in File.ReadLines(mergesPath))
        {
            if (line.Length > 0 && !line.StartsWith("#version", StringComparison.Ordinal))
            {
                merges.Add(TokenizerJsonReader.SplitMerge(line, "merges.txt"));
            }
        }

        var added = new List<AddedToken>();
        var prefix = new List<int>();
        if (tokenizerConfigPath is not null)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(tokenizerConfigPath));
            var root = doc.RootElement;
            if (root.TryGetProperty("added_tokens_decoder", out var dec))
            {
                foreach (var p in dec.EnumerateObject())
                {
                    added.Add(TokenizerJsonReader.ReadAddedToken(p.Value, int.Parse(p.Name, CultureInfo.InvariantCulture)));
                }
            }

            if (root.TryGetProperty("add_bos_token", out var addBos) && addBos.ValueKind == JsonValueKind.True
                && TokenizerConfigReader.ReadTokenText(root, "bos_token") is string bosText)
            {
                int id = added.FirstOrDefault(t => t.Content == bosText)?.Id
                    ?? (vocab.TryGetValue(bosText, out int v) ? v : throw new ConfigurationException("tokenizer_config.json", "bos_token", $"'{bosText}' is not in the vocabulary."));
                prefix.Add(id);
            }
        }

        return new TokenizerModel(vocab, merges, IgnoreMerges: false, PreTokenizer.Gpt2(), null, [.. added.OrderBy(t => t.Id)], [.. prefix], []);
    }
}
