using System.Runtime.InteropServices;
using System.Text;
using Idefics3.Configuration;

namespace Idefics3.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer loaded from a Hugging Face <c>tokenizer.json</c> (or the slow <c>vocab.json</c> +
/// <c>merges.txt</c> pair), with the same ids as the Hugging Face fast tokenizer: added tokens are split out of the raw
/// text first (<see cref="AddedTokenMatcher"/>), the rest runs through the normalizer, the pre-tokenizer chain
/// (<see cref="PreTokenizer"/>: Llama 3 <c>Split</c> regex, GPT-2 ByteLevel regex, <c>Digits</c>, on code points) and
/// the byte-level BPE model (<see cref="BytePairEncoder"/>), and the post-processor's TemplateProcessing adds the BOS
/// token when special tokens are requested. The loaders are <see cref="TokenizerJsonReader"/>,
/// <see cref="SlowTokenizerReader"/> and <see cref="TokenizerConfigReader"/>.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers' <c>BpeTokenizer</c> and <c>TiktokenTokenizer</c> were evaluated; neither reproduces the
/// combination of <c>ignore_merges</c>, Hugging Face added-token splitting and the TemplateProcessing BOS rule for
/// arbitrary tokenizer.json files, so the (small) byte-level BPE is implemented here. Instances are immutable and
/// thread-safe.
/// </remarks>
public sealed class HuggingFaceTokenizer
{
    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _idToToken;
    private readonly Dictionary<string, int> _addedByContent;
    private readonly BytePairEncoder _bpe;
    private readonly PreTokenizer _preTokenizer;
    private readonly NormalizationForm? _normalization;
    private readonly AddedTokenMatcher _addedMatcher;
    private readonly int[] _prefixIds;
    private readonly int[] _suffixIds;

    private HuggingFaceTokenizer(TokenizerModel model, string? bosToken, string? eosToken)
    {
        _vocab = model.Vocab;
        _preTokenizer = model.PreTokenizer;
        _normalization = model.Normalization;
        _prefixIds = model.PrefixIds;
        _suffixIds = model.SuffixIds;
        AddedTokens = model.AddedTokens;
        BosToken = bosToken;
        EosToken = eosToken;
        _addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in model.AddedTokens)
        {
            _addedByContent.TryAdd(t.Content, t.Id);
        }

        int maxId = Math.Max(model.Vocab.Count == 0 ? -1 : model.Vocab.Values.Max(), model.AddedTokens.Count == 0 ? -1 : model.AddedTokens.Max(t => t.Id));
        _idToToken = new string[maxId + 1];
        foreach (var (token, id) in model.Vocab)
        {
            _idToToken[id] = token;
        }

        foreach (var t in model.AddedTokens)
        {
            _idToToken[t.Id] = t.Content;
        }

        _bpe = new BytePairEncoder(model.Vocab, model.Merges, model.IgnoreMerges);
        _addedMatcher = new AddedTokenMatcher(model.AddedTokens);
        SpecialTokenIds = model.AddedTokens.Where(t => t.Special).Select(t => t.Id).ToHashSet();
    }

    /// <summary>Gets the added tokens (special or not), in id order.</summary>
    internal IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>Gets the ids of added tokens flagged special (skipped by <c>skipSpecialTokens</c>).</summary>
    public IReadOnlySet<int> SpecialTokenIds { get; }

    /// <summary>Gets the number of ids (highest id + 1).</summary>
    public int VocabularySize => _idToToken.Length;

    /// <summary>Gets the ids the post-processor puts in front of a sequence when special tokens are added (the BOS rule).</summary>
    public IReadOnlyList<int> PrefixSpecialIds => _prefixIds;

    /// <summary>Gets the ids the post-processor appends to a sequence when special tokens are added.</summary>
    public IReadOnlyList<int> SuffixSpecialIds => _suffixIds;

    /// <summary>Gets the BOS token text from tokenizer_config.json (for example <c>&lt;|begin_of_text|&gt;</c>), when known; chat templates see it as <c>bos_token</c>.</summary>
    public string? BosToken { get; }

    /// <summary>Gets the EOS token text from tokenizer_config.json, when known; chat templates see it as <c>eos_token</c>. Generation stops on generation_config.json's ids, not on this.</summary>
    public string? EosToken { get; }

    /// <summary>Loads the tokenizer of a model folder: tokenizer.json when present, else vocab.json + merges.txt.</summary>
    /// <param name="directory">The model folder.</param>
    /// <returns>The tokenizer, with the BOS/EOS texts of tokenizer_config.json when present.</returns>
    /// <exception cref="ConfigurationException">The files are missing or use an unsupported feature.</exception>
    public static HuggingFaceTokenizer FromDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string json = Path.Combine(directory, "tokenizer.json");
        string vocab = Path.Combine(directory, "vocab.json");
        string merges = Path.Combine(directory, "merges.txt");
        string config = Path.Combine(directory, "tokenizer_config.json");
        string? configPath = File.Exists(config) ? config : null;
        TokenizerModel model;
        if (File.Exists(json))
        {
            model = TokenizerJsonReader.Read(File.ReadAllText(json));
        }
        else if (File.Exists(vocab) && File.Exists(merges))
        {
            model = SlowTokenizerReader.Read(vocab, merges, configPath);
        }
        else
        {
            throw new ConfigurationException("tokenizer.json", "(file)", $"neither tokenizer.json nor vocab.json + merges.txt found in '{directory}'.");
        }

        var (bos, eos) = TokenizerConfigReader.Read(configPath is null ? null : File.ReadAllText(configPath));
        return new HuggingFaceTokenizer(model, bos, eos);
    }

    /// <summary>Parses the text of a tokenizer.json file.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="tokenizerConfigJson">The text of tokenizer_config.json (BOS/EOS texts), or null.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="ConfigurationException">The file uses an unsupported model, normalizer or pre-tokenizer.</exception>
    public static HuggingFaceTokenizer FromJson(string json, string? tokenizerConfigJson = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        var (bos, eos) = TokenizerConfigReader.Read(tokenizerConfigJson);
        return new HuggingFaceTokenizer(TokenizerJsonReader.Read(json), bos, eos);
    }

    /// <summary>Loads a slow GPT-2 style tokenizer: vocab.json, merges.txt and optionally tokenizer_config.json.</summary>
    /// <param name="vocabPath">Path of vocab.json.</param>
    /// <param name="mergesPath">Path of merges.txt.</param>
    /// <param name="tokenizerConfigPath">Path of tokenizer_config.json (added tokens, <c>add_bos_token</c>, BOS/EOS texts), or null.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="ConfigurationException">A file is malformed.</exception>
    public static HuggingFaceTokenizer FromSlowFiles(string vocabPath, string mergesPath, string? tokenizerConfigPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabPath);
        ArgumentException.ThrowIfNullOrEmpty(mergesPath);
        var (bos, eos) = TokenizerConfigReader.Read(tokenizerConfigPath is null ? null : File.ReadAllText(tokenizerConfigPath));
        return new HuggingFaceTokenizer(SlowTokenizerReader.Read(vocabPath, mergesPath, tokenizerConfigPath), bos, eos);
    }

    /// <summary>Encodes text to ids.</summary>
    /// <param name="text">The text; added tokens such as <c>&lt;image&gt;</c> written in it become their ids.</param>
    /// <param name="addSpecialTokens">Whether the post-processor's special tokens (the BOS rule) are added.</param>
    /// <returns>The ids.</returns>
    public int[] Encode(string text, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>((text.Length / 3) + 4);
        if (addSpecialTokens)
        {
            ids.AddRange(_prefixIds);
        }

        foreach (var segment in _addedMatcher.Split(text))
        {
            if (segment.AddedId >= 0)
            {
                ids.Add(segment.AddedId);
                continue;
            }

            string piece = _normalization is { } form ? segment.Text!.Normalize(form) : segment.Text!;
            foreach (string pre in _preTokenizer.Split(piece))
            {
                ids.AddRange(_bpe.Encode(pre));
            }
        }

        if (addSpecialTokens)
        {
            ids.AddRange(_suffixIds);
        }

        return [.. ids];
    }

    /// <summary>Counts the ids <see cref="Encode"/> would return, without keeping them.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Whether the post-processor's special tokens are counted.</param>
    /// <returns>The number of ids.</returns>
    public int CountTokens(string text, bool addSpecialTokens = false) => Encode(text, addSpecialTokens).Length;

    /// <summary>Encodes text and returns the token strings (byte-level alphabet, as Hugging Face's <c>tokenize</c>).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The token strings.</returns>
    public IReadOnlyList<string> EncodeToTokens(string text) => [.. Encode(text).Select(id => _idToToken[id])];

    /// <summary>Returns the id of a token string (added token or vocabulary entry), or null.</summary>
    /// <param name="token">The token text.</param>
    /// <returns>The id, or null when unknown.</returns>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_addedByContent.TryGetValue(token, out int added))
        {
            return added;
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

        string text = Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(bytes));
        return cleanUpTokenizationSpaces ? CleanUp(text) : text;
    }

    /// <summary>Creates an incremental decoder for streamed generation.</summary>
    /// <param name="skipSpecialTokens">Whether added tokens flagged special are dropped.</param>
    /// <returns>A new decoder.</returns>
    internal StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = true) => new(this, skipSpecialTokens);

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
}
