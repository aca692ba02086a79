using System.Text;

namespace Idefics3.Tokenization;

/// <summary>What a tokenizer loader reads from the files: everything <see cref="HuggingFaceTokenizer"/> is built from.</summary>
/// <param name="Vocab">Token string (byte-level alphabet) to id.</param>
/// <param name="Merges">The BPE merges in rank order.</param>
/// <param name="IgnoreMerges">Whether a pre-token found whole in the vocabulary skips BPE (<c>ignore_merges</c>).</param>
/// <param name="PreTokenizer">The pre-tokenizer chain.</param>
/// <param name="Normalization">The Unicode normalizer, when the file has one.</param>
/// <param name="AddedTokens">The added tokens, in id order.</param>
/// <param name="PrefixIds">Ids the post-processor puts in front when special tokens are added.</param>
/// <param name="SuffixIds">Ids the post-processor appends when special tokens are added.</param>
internal sealed record TokenizerModel(
    Dictionary<string, int> Vocab,
    List<(string Left, string Right)> Merges,
    bool IgnoreMerges,
    PreTokenizer PreTokenizer,
    NormalizationForm? Normalization,
    IReadOnlyList<AddedToken> AddedTokens,
    int[] PrefixIds,
    int[] SuffixIds);
