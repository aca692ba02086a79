using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Idefics3.Configuration;

namespace Idefics3.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer loaded from a Hugging Face <c>tokenizer.json</c> (or the slow <c>vocab.json</c> +
/// <c>merges.txt</c> pair), with the same ids as the Hugging Face fast tokenizer: added tokens are split out of the raw
/// text first, the remaining text runs through the pre-tokenizer chain (Llama 3 <c>Split</c> regex, GPT-2 ByteLevel
/// regex, <c>Digits</c>), byte-level mapping and BPE (with <c>ignore_merges</c>), and the post-processor's
/// TemplateProcessing adds the BOS token when special tokens are requested.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers' <c>BpeTokenizer</c> and <c>TiktokenTokenizer</c> were evaluated; neither reproduces the
/// combination of <c>ignore_merges</c>, Hugging Face added-token splitting and the TemplateProcessing BOS rule for
/// arbitrary tokenizer.json files, so the (small) byte-level BPE is implemented here. Instances are thread-safe.
/// </remarks>
public sealed class HuggingFaceTokenizer
{
    private const int MaxCacheEntries = 200_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _idToToken;
    private readonly Dictionary<long, (int Rank, int Merged)> _merges;
    private readonly bool _ignoreMerges;
    private readonly PreTokenizer _preTokenizer;
    private readonly NormalizationForm? _normalization;
    private readonly AddedTokenMatcher _addedMatcher;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly int[] _prefixIds;
    private readonly int[] _suffixIds;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly int[] _charIds;
    private int _cacheCount;

    private HuggingFaceTokenizer(
        Dictionary<string, int> vocab,
        List<(string Left, string Right)> merges,
        bool ignoreMerges,
        PreTokenizer preTokenizer,
        NormalizationForm? normalization,
        IReadOnlyList<AddedToken> addedTokens,
        int[] prefixIds,
        int[] suffixIds)
    {
        _vocab = vocab;
        _ignoreMerges = ignoreMerges;
        _preTokenizer = preTokenizer;
        _normalization = normalization;
        _prefixIds = prefixIds;
        _suffixIds = suffixIds;
        AddedTokens = addedTokens;
        _addedById = addedTokens.ToDictionary(t => t.Id);

        int maxId = vocab.Count == 0 ? -1 : vocab.Values.Max();
        foreach (var t in addedTokens)
        {
            maxId = Math.Max(maxId, t.Id);
        }

        _idToToken = new string[maxId + 1];
        foreach (var (token, id) in vocab)
        {
            _idToToken[id] = token;
        }

        foreach (var t in addedTokens)
        {
            _idToToken[t.Id] = t.Content;
        }

        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocab.TryGetValue(left, out int a) || !vocab.TryGetValue(right, out int b) || !vocab.TryGetValue(left + right, out int m))
            {
                continue;
            }

            long key = PairKey(a, b);
            _merges.TryAdd(key, (rank, m));
        }

        _charIds = new int[512];
        Array.Fill(_charIds, -1);
        for (int b = 0; b < 256; b++)
        {
            char c = ByteLevelAlphabet.ToChar((byte)b);
            if (vocab.TryGetValue(c.ToString(), out int cid))
            {
                _charIds[c] = cid;
            }
        }

        _addedMatcher = new AddedTokenMatcher(addedTokens);
        SpecialTokenIds = addedTokens.Where(t => t.Special).Select(t => t.Id).ToHashSet();
    }

    /// <summary>Gets the added tokens (special or not), in id order.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>Gets the ids of added tokens flagged special (skipped by <c>skipSpecialTokens</c>).</summary>
    public IReadOnlySet<int> SpecialTokenIds { get; }

    /// <summary>Gets the number of ids (highest id + 1).</summary>
    public int VocabularySize => _idToToken.Length;

    /// <summary>Gets the ids the post-processor puts in front of a sequence when special tokens are added (the BOS rule).</summary>
    public IReadOnlyList<int> PrefixSpecialIds => _prefixIds;

    /// <summary>Gets the ids the post-processor appends to a sequence when special tokens are added.</summary>
    public IReadOnlyList<int> SuffixSpecialIds => _suffixIds;

    /// <summary>Gets or sets the BOS token text from tokenizer_config.json (for example <c>&lt;|begin_of_text|&gt;</c>), when known.</summary>
    public string? BosToken { get; set; }

    /// <summary>Gets or sets the EOS token text from tokenizer_config.json, when known.</summary>
    public string? EosToken { get; set; }

    /// <summary>Gets or sets the chat template found in tokenizer_config.json, when present.</summary>
    public string? ChatTemplate { get; set; }

    /// <summary>Loads the tokenizer of a model folder: tokenizer.json when present, else vocab.json + merges.txt.</summary>
    /// <param name="directory">The model folder.</param>
    /// <returns>The tokenizer, with BOS/EOS and chat template from tokenizer_config.json when present.</returns>
    /// <exception cref="ConfigurationException">The files are missing or use an unsupported feature.</exception>
    public static HuggingFaceTokenizer FromDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string json = Path.Combine(directory, "tokenizer.json");
        string config = Path.Combine(directory, "tokenizer_config.json");
        HuggingFaceTokenizer tokenizer;
        if (File.Exists(json))
        {
            tokenizer = FromJson(File.ReadAllText(json));
        }
        else if (File.Exists(Path.Combine(directory, "vocab.json")) && File.Exists(Path.Combine(directory, "merges.txt")))
        {
            tokenizer = FromSlowFiles(Path.Combine(directory, "vocab.json"), Path.Combine(directory, "merges.txt"), File.Exists(config) ? config : null);
        }
        else
        {
            throw new ConfigurationException("tokenizer.json", "(file)", $"neither tokenizer.json nor vocab.json + merges.txt found in '{directory}'.");
        }

        if (File.Exists(config))
        {
            tokenizer.ApplyTokenizerConfig(File.ReadAllText(config));
        }

        return tokenizer;
    }

    /// <summary>Parses the text of a tokenizer.json file.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="ConfigurationException">The file uses an unsupported model, normalizer or pre-tokenizer.</exception>
    public static HuggingFaceTokenizer FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        const string File = "tokenizer.json";
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

            var merges = new List<(string, string)>();
            if (model.TryGetProperty("merges", out var mergesNode))
            {
                foreach (var m in mergesNode.EnumerateArray())
                {
                    if (m.ValueKind == JsonValueKind.Array)
                    {
                        merges.Add((m[0].GetString()!, m[1].GetString()!));
                    }
                    else
                    {
                        string s = m.GetString()!;
                        int space = s.IndexOf(' ', 1);
                        if (space < 0)
                        {
                            throw new ConfigurationException(File, "model.merges", $"malformed merge '{s}'.");
                        }

                        merges.Add((s[..space], s[(space + 1)..]));
                    }
                }
            }

            bool ignoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True;

            NormalizationForm? normalization = null;
            if (root.TryGetProperty("normalizer", out var norm) && norm.ValueKind != JsonValueKind.Null)
            {
                string nt = norm.GetProperty("type").GetString() ?? string.Empty;
                normalization = nt switch
                {
                    "NFC" => NormalizationForm.FormC,
                    "NFKC" => NormalizationForm.FormKC,
                    "NFD" => NormalizationForm.FormD,
                    "NFKD" => NormalizationForm.FormKD,
                    _ => throw new ConfigurationException(File, "normalizer.type", $"normalizer '{nt}' is not supported."),
                };
            }

            var pre = root.TryGetProperty("pre_tokenizer", out var preNode)
                ? PreTokenizer.FromJson(preNode, File)
                : PreTokenizer.FromJson(default, File);

            var added = new List<AddedToken>();
            if (root.TryGetProperty("added_tokens", out var addedNode))
            {
                foreach (var a in addedNode.EnumerateArray())
                {
                    added.Add(new AddedToken(
                        a.GetProperty("id").GetInt32(),
                        a.GetProperty("content").GetString()!,
                        a.TryGetProperty("special", out var sp) && sp.ValueKind == JsonValueKind.True,
                        a.TryGetProperty("lstrip", out var ls) && ls.ValueKind == JsonValueKind.True,
                        a.TryGetProperty("rstrip", out var rs) && rs.ValueKind == JsonValueKind.True));
                }
            }

            var prefix = new List<int>();
            var suffix = new List<int>();
            if (root.TryGetProperty("post_processor", out var post) && post.ValueKind != JsonValueKind.Null)
            {
                ReadPostProcessor(post, vocab, added, prefix, suffix, File);
            }

            return new HuggingFaceTokenizer(vocab, merges, ignoreMerges, pre, normalization, added.OrderBy(t => t.Id).ToList(), prefix.ToArray(), suffix.ToArray());
        }
    }

    /// <summary>Loads a slow GPT-2 style tokenizer: vocab.json, merges.txt and optionally tokenizer_config.json.</summary>
    /// <param name="vocabPath">Path of vocab.json.</param>
    /// <param name="mergesPath">Path of merges.txt.</param>
    /// <param name="tokenizerConfigPath">Path of tokenizer_config.json (added tokens, <c>add_bos_token</c>), or null.</param>
    /// <returns>The tokenizer.</returns>
    public static HuggingFaceTokenizer FromSlowFiles(string vocabPath, string mergesPath, string? tokenizerConfigPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabPath);
        ArgumentException.ThrowIfNullOrEmpty(mergesPath);
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
            ?? throw new ConfigurationException("vocab.json", "(root)", "empty vocabulary.");
        var merges = new List<(string, string)>();
        foreach (string line in File.ReadLines(mergesPath))
        {
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0)
            {
                continue;
            }

            int space = line.IndexOf(' ', 1);
            if (space < 0)
            {
                throw new ConfigurationException("merges.txt", "(line)", $"malformed merge '{line}'.");
            }

            merges.Add((line[..space], line[(space + 1)..]));
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
                    var a = p.Value;
                    added.Add(new AddedToken(
                        int.Parse(p.Name, System.Globalization.CultureInfo.InvariantCulture),
                        a.GetProperty("content").GetString()!,
                        a.TryGetProperty("special", out var sp) && sp.ValueKind == JsonValueKind.True,
                        a.TryGetProperty("lstrip", out var ls) && ls.ValueKind == JsonValueKind.True,
                        a.TryGetProperty("rstrip", out var rs) && rs.ValueKind == JsonValueKind.True));
                }
            }

            if (root.TryGetProperty("add_bos_token", out var addBos) && addBos.ValueKind == JsonValueKind.True
                && root.TryGetProperty("bos_token", out var bos))
            {
                string bosText = bos.ValueKind == JsonValueKind.String ? bos.GetString()! : bos.GetProperty("content").GetString()!;
                int id = added.FirstOrDefault(t => t.Content == bosText)?.Id
                    ?? (vocab.TryGetValue(bosText, out int v) ? v : throw new ConfigurationException("tokenizer_config.json", "bos_token", $"'{bosText}' is not in the vocabulary."));
                prefix.Add(id);
            }
        }

        return new HuggingFaceTokenizer(vocab, merges, ignoreMerges: false, PreTokenizer.Gpt2(), null, added.OrderBy(t => t.Id).ToList(), prefix.ToArray(), []);
    }

    /// <summary>Encodes text to ids.</summary>
    /// <param name="text">The text; added tokens such as <c>&lt;image&gt;</c> written in it become their ids.</param>
    /// <param name="addSpecialTokens">Whether the post-processor's special tokens (the BOS rule) are added.</param>
    /// <returns>The ids.</returns>
    public int[] Encode(string text, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens)
        {
            ids.AddRange(_prefixIds);
        }

        EncodeInto(text, ids);
        if (addSpecialTokens)
        {
            ids.AddRange(_suffixIds);
        }

        return ids.ToArray();
    }

    /// <summary>Counts the ids <see cref="Encode"/> would return, without keeping them.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Whether the post-processor's special tokens are counted.</param>
    /// <returns>The number of ids.</returns>
    public int CountTokens(string text, bool addSpecialTokens = false) => Encode(text, addSpecialTokens).Length;

    /// <summary>Encodes text and returns the token strings (byte-level alphabet, as Hugging Face's <c>tokenize</c>).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The token strings.</returns>
    public IReadOnlyList<string> EncodeToTokens(string text) => Encode(text).Select(id => _idToToken[id]).ToList();

    /// <summary>Returns the id of a token string (vocabulary or added token), or null.</summary>
    /// <param name="token">The token text.</param>
    /// <returns>The id, or null when unknown.</returns>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var added = AddedTokens.FirstOrDefault(t => t.Content == token);
        if (added is not null)
        {
            return added.Id;
        }

        return _vocab.TryGetValue(token, out int id) ? id : null;
    }

    /// <summary>Returns the token string of an id, or null when out of range.</summary>
    /// <param name="id">The id.</param>
    /// <returns>The token string.</returns>
    public string? IdToToken(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;

    /// <summary>Decodes ids to text like Hugging Face's fast tokenizer (<c>clean_up_tokenization_spaces=False</c> by default).</summary>
    /// <param name="ids">The ids.</param>
    /// <param name="skipSpecialTokens">Whether added tokens flagged special are dropped.</param>
    /// <param name="cleanUpTokenizationSpaces">Whether the legacy clean-up (" ." to "." and so on) is applied.</param>
    /// <returns>The text; invalid UTF-8 becomes U+FFFD.</returns>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false, bool cleanUpTokenizationSpaces = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            AppendIdBytes(id, skipSpecialTokens, bytes);
        }

        string text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
        return cleanUpTokenizationSpaces ? CleanUp(text) : text;
    }

    /// <summary>Creates an incremental decoder for streamed generation.</summary>
    /// <param name="skipSpecialTokens">Whether added tokens flagged special are dropped.</param>
    /// <returns>A new decoder.</returns>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = true) => new(this, skipSpecialTokens);

    /// <summary>Applies Hugging Face's legacy <c>clean_up_tokenization</c>.</summary>
    /// <param name="text">Decoded text.</param>
    /// <returns>The cleaned text.</returns>
    public static string CleanUp(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Replace(" .", ".", StringComparison.Ordinal)
            .Replace(" ?", "?", StringComparison.Ordinal)
            .Replace(" !", "!", StringComparison.Ordinal)
            .Replace(" ,", ",", StringComparison.Ordinal)
            .Replace(" ' ", "'", StringComparison.Ordinal)
            .Replace(" n't", "n't", StringComparison.Ordinal)
            .Replace(" 'm", "'m", StringComparison.Ordinal)
            .Replace(" 's", "'s", StringComparison.Ordinal)
            .Replace(" 've", "'ve", StringComparison.Ordinal)
            .Replace(" 're", "'re", StringComparison.Ordinal);
    }

    /// <summary>Appends the bytes one id stands for.</summary>
    internal void AppendIdBytes(int id, bool skipSpecialTokens, List<byte> output)
    {
        if ((uint)id >= (uint)_idToToken.Length || _idToToken[id] is null)
        {
            // Like Hugging Face's tokenizers, an id with no token (a model vocabulary padded beyond the tokenizer's)
            // decodes to nothing rather than failing the whole decode.
            return;
        }

        if (skipSpecialTokens && SpecialTokenIds.Contains(id))
        {
            return;
        }

        ByteLevelAlphabet.AppendTokenBytes(_idToToken[id], output);
    }

    /// <summary>Reads bos/eos and the chat template from tokenizer_config.json text.</summary>
    internal void ApplyTokenizerConfig(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        BosToken = ReadTokenText(root, "bos_token") ?? BosToken;
        EosToken = ReadTokenText(root, "eos_token") ?? EosToken;
        if (root.TryGetProperty("chat_template", out var ct) && ct.ValueKind == JsonValueKind.String)
        {
            ChatTemplate = ct.GetString();
        }
    }

    private static string? ReadTokenText(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var node))
        {
            return null;
        }

        return node.ValueKind switch
        {
            JsonValueKind.String => node.GetString(),
            JsonValueKind.Object when node.TryGetProperty("content", out var c) => c.GetString(),
            _ => null,
        };
    }

    private static void ReadPostProcessor(JsonElement post, Dictionary<string, int> vocab, List<AddedToken> added, List<int> prefix, List<int> suffix, string file)
    {
        string type = post.GetProperty("type").GetString() ?? string.Empty;
        switch (type)
        {
            case "Sequence":
                foreach (var p in post.GetProperty("processors").EnumerateArray())
                {
                    ReadPostProcessor(p, vocab, added, prefix, suffix, file);
                }

                break;
            case "ByteLevel":
                break;
            case "TemplateProcessing":
                {
                    var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
                    if (post.TryGetProperty("special_tokens", out var st))
                    {
                        foreach (var p in st.EnumerateObject())
                        {
                            specials[p.Name] = p.Value.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                        }
                    }

                    bool seenSequence = false;
                    foreach (var item in post.GetProperty("single").EnumerateArray())
                    {
                        if (item.TryGetProperty("Sequence", out _))
                        {
                            seenSequence = true;
                        }
                        else if (item.TryGetProperty("SpecialToken", out var sp))
                        {
                            string id = sp.GetProperty("id").GetString()!;
                            if (!specials.TryGetValue(id, out int[]? ids))
                            {
                                throw new ConfigurationException(file, "post_processor.special_tokens", $"'{id}' is not listed.");
                            }

                            (seenSequence ? suffix : prefix).AddRange(ids);
                        }
                    }

                    break;
                }

            default:
                throw new ConfigurationException(file, "post_processor.type", $"post-processor '{type}' is not supported.");
        }
    }

    private static long PairKey(int a, int b) => ((long)a << 32) | (uint)b;

    private void EncodeInto(string text, List<int> ids)
    {
        foreach (var segment in _addedMatcher.Split(text))
        {
            if (segment.AddedId >= 0)
            {
                ids.Add(segment.AddedId);
                continue;
            }

            string piece = segment.Text!;
            if (_normalization is { } form)
            {
                piece = piece.Normalize(form);
            }

            foreach (string pre in _preTokenizer.Split(piece))
            {
                ids.AddRange(EncodeWord(pre));
            }
        }
    }

    private int[] EncodeWord(string word)
    {
        if (_cache.TryGetValue(word, out int[]? cached))
        {
            return cached;
        }

        string mapped = ByteLevelAlphabet.Encode(word);
        int[] result;
        if (_ignoreMerges && _vocab.TryGetValue(mapped, out int whole))
        {
            result = [whole];
        }
        else
        {
            result = Bpe(mapped);
        }

        if (Volatile.Read(ref _cacheCount) >= MaxCacheEntries)
        {
            _cache.Clear();
            Volatile.Write(ref _cacheCount, 0);
        }

        if (_cache.TryAdd(word, result))
        {
            Interlocked.Increment(ref _cacheCount);
        }
        return result;
    }

    private int[] Bpe(string mapped)
    {
        var symbols = new List<int>(mapped.Length);
        foreach (char c in mapped)
        {
            int id = c < _charIds.Length ? _charIds[c] : -1;
            if (id >= 0)
            {
                symbols.Add(id);
            }
        }

        while (symbols.Count > 1)
        {
            int bestRank = int.MaxValue;
            int bestIndex = -1;
            int bestMerged = 0;
            for (int i = 0; i < symbols.Count - 1; i++)
            {
                if (_merges.TryGetValue(PairKey(symbols[i], symbols[i + 1]), out var m) && m.Rank < bestRank)
                {
                    bestRank = m.Rank;
                    bestIndex = i;
                    bestMerged = m.Merged;
                }
            }

            if (bestIndex < 0)
            {
                break;
            }

            symbols[bestIndex] = bestMerged;
            symbols.RemoveAt(bestIndex + 1);
        }

        return symbols.ToArray();
    }
}
