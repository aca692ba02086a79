using System.Text;
using System.Text.Json;
using Idefics3.Configuration;

namespace Idefics3.Tokenization;

/// <summary>Reads a Hugging Face <c>tokenizer.json</c> (byte-level BPE) into a <see cref="TokenizerModel"/>.</summary>
internal static class TokenizerJsonReader
{
    private const string File = "tokenizer.json";

    /// <summary>Parses the text of a tokenizer.json file.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ConfigurationException">The text is not JSON, or the file uses an unsupported model, normalizer or pre-tokenizer.</exception>
    public static TokenizerModel Read(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ConfigurationException($"{File}: not valid JSON: {ex.Message}", ex);
        }

        using (doc)
        {
            var root = doc.RootElement;
            var model = root.GetProperty("model");
            string modelType = model.TryGetProperty("type", out var mt) ? mt.GetString() ?? "BPE" : "BPE";
            if (modelType != "BPE")
            {
                throw new ConfigurationException(File, "model.type", $"model '{modelType}' is not supported (byte-level BPE only).");
            }

            if (model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True)
            {
                throw new ConfigurationException(File, "model.byte_fallback", "byte_fallback (SentencePiece-style BPE) is not supported.");
            }

            var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var p in model.GetProperty("vocab").EnumerateObject())
            {
                vocab[p.Name] = p.Value.GetInt32();
            }

            var added = new List<AddedToken>();
            if (root.TryGetProperty("added_tokens", out var addedNode))
            {
                foreach (var a in addedNode.EnumerateArray())
                {
                    added.Add(ReadAddedToken(a, a.GetProperty("id").GetInt32()));
                }
            }

            var (prefix, suffix) = root.TryGetProperty("post_processor", out var post) && post.ValueKind != JsonValueKind.Null
                ? PostProcessorReader.Read(post, File)
                : ([], []);
            return new TokenizerModel(
                vocab,
                ReadMerges(model),
                model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True,
                PreTokenizer.FromJson(root.TryGetProperty("pre_tokenizer", out var preNode) ? preNode : default, File),
                ReadNormalizer(root),
                [.. added.OrderBy(t => t.Id)],
                prefix,
                suffix);
        }
    }

    /// <summary>Reads one added-token object (tokenizer.json <c>added_tokens</c> or tokenizer_config.json <c>added_tokens_decoder</c>).</summary>
    /// <param name="node">The object.</param>
    /// <param name="id">Its id.</param>
    /// <returns>The token.</returns>
    public static AddedToken ReadAddedToken(JsonElement node, int id) => new(
        id,
        node.GetProperty("content").GetString()!,
        node.TryGetProperty("special", out var sp) && sp.ValueKind == JsonValueKind.True,
        node.TryGetProperty("lstrip", out var ls) && ls.ValueKind == JsonValueKind.True,
        node.TryGetProperty("rstrip", out var rs) && rs.ValueKind == JsonValueKind.True);

    /// <summary>Splits a merge line <c>"left right"</c> (the left part may start with a space-like byte char, never a space).</summary>
    /// <param name="line">The merge.</param>
    /// <param name="file">The file name for errors.</param>
    /// <returns>The pair.</returns>
    public static (string Left, string Right) SplitMerge(string line, string file)
    {
        int space = line.IndexOf(' ', 1);
        if (space < 0)
        {
            throw new ConfigurationException(file, "merges", $"malformed merge '{line}'.");
        }

        return (line[..space], line[(space + 1)..]);
    }

    private static List<(string, string)> ReadMerges(JsonElement model)
    {
        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out var mergesNode))
        {
            foreach (var m in mergesNode.EnumerateArray())
            {
                merges.Add(m.ValueKind == JsonValueKind.Array ? (m[0].GetString()!, m[1].GetString()!) : SplitMerge(m.GetString()!, File));
            }
        }

        return merges;
    }

    private static NormalizationForm? ReadNormalizer(JsonElement root)
    {
        if (!root.TryGetProperty("normalizer", out var norm) || norm.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string type = norm.GetProperty("type").GetString() ?? string.Empty;
        return type switch
        {
            "NFC" => NormalizationForm.FormC,
            "NFKC" => NormalizationForm.FormKC,
            "NFD" => NormalizationForm.FormD,
            "NFKD" => NormalizationForm.FormKD,
            _ => throw new ConfigurationException(File, "normalizer.type", $"normalizer '{type}' is not supported."),
        };
    }
}
