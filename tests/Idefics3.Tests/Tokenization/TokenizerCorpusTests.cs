using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Idefics3.Tokenization;

namespace Idefics3.Tests.Tokenization;

/// <summary>
/// Hugging Face's own tokenizer (Rust <c>tokenizers</c> 0.23.2) against ours on the generated corpus of
/// <c>Fixtures/tokenizer-corpus</c> (several thousand strings: many scripts, digits, whitespace runs, emoji and ZWJ
/// sequences, code, URLs, letters outside the BMP next to punctuation, special-token strings typed as text), for the
/// SmolVLM vocabulary and the Llama 3 (Idefics3-8B) vocabulary: ids, decode, and decode without special tokens.
/// </summary>
public class TokenizerCorpusTests
{
    private static readonly Lazy<List<CorpusCase>> s_cases = new(Load);

    public static TheoryData<string> Vocabularies() => new() { "smolvlm", "llama3" };

    [Fact]
    public void Corpus_is_large_and_covers_every_category()
    {
        var cases = s_cases.Value;
        Assert.True(cases.Count >= 3000, $"{cases.Count} strings");
        string[] categories = ["words", "scripts", "mixed-scripts", "digits", "whitespace", "emoji", "code", "urls", "astral-letters", "recent-unicode", "specials", "contractions", "random-codepoints", "long"];
        Assert.All(categories, c => Assert.True(cases.Count(x => x.Category == c) >= 50, c));
        Assert.True(cases.Count(c => c.Text.Any(char.IsSurrogate)) >= 500, "strings with code points outside the BMP");
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Encode_gives_hugging_face_ids_for_every_corpus_string(string vocabulary)
    {
        var tokenizer = TokenizerOf(vocabulary);
        var misses = new List<string>();
        var cases = s_cases.Value;
        foreach (var c in cases)
        {
            int[] expected = c.Expected[vocabulary].Ids;
            int[] actual = tokenizer.Encode(c.Text);
            if (!expected.AsSpan().SequenceEqual(actual))
            {
                misses.Add($"#{c.Index} {c.Category} [{CodePoints(c.Text)}]\n  hf:  {string.Join(' ', expected)}\n  our: {string.Join(' ', actual)}");
            }
        }

        Assert.True(misses.Count == 0, $"{cases.Count - misses.Count} of {cases.Count} match; misses:\n{string.Join('\n', misses.Take(20))}");
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Decode_gives_hugging_face_text_for_every_corpus_string(string vocabulary)
    {
        var tokenizer = TokenizerOf(vocabulary);
        var misses = new List<string>();
        var cases = s_cases.Value;
        foreach (var c in cases)
        {
            var e = c.Expected[vocabulary];
            string decoded = tokenizer.Decode(e.Ids);
            string skipped = tokenizer.Decode(e.Ids, skipSpecialTokens: true);
            if (decoded != e.Decoded || skipped != e.DecodedSkipSpecial)
            {
                misses.Add($"#{c.Index} {c.Category} [{CodePoints(c.Text)}]");
            }
        }

        Assert.True(misses.Count == 0, $"{cases.Count - misses.Count} of {cases.Count} match; misses:\n{string.Join('\n', misses.Take(20))}");
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Streaming_decode_of_every_corpus_string_concatenates_to_the_full_decode(string vocabulary)
    {
        var tokenizer = TokenizerOf(vocabulary);
        foreach (var c in s_cases.Value)
        {
            int[] ids = c.Expected[vocabulary].Ids;
            var decoder = tokenizer.CreateStreamingDecoder(skipSpecialTokens: false);
            var text = new StringBuilder();
            foreach (int id in ids)
            {
                text.Append(decoder.Append(id));
            }

            text.Append(decoder.Flush());
            Assert.Equal(c.Expected[vocabulary].Decoded, text.ToString());
        }
    }

    private static HuggingFaceTokenizer TokenizerOf(string vocabulary) =>
        vocabulary == "smolvlm" ? TestFixtures.SmolVlmTokenizer : TestFixtures.Llama3Tokenizer;

    private static string CodePoints(string text) =>
        string.Join(' ', text.EnumerateRunes().Select(r => r.Value.ToString("X4", CultureInfo.InvariantCulture)));

    private static List<CorpusCase> Load()
    {
        using var gz = new GZipStream(File.OpenRead(TestFixtures.PathOf("tokenizer-corpus", "corpus.json.gz")), CompressionMode.Decompress);
        using var doc = JsonDocument.Parse(gz);
        var result = new List<CorpusCase>();
        int index = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            var expected = new Dictionary<string, Expectation>(StringComparer.Ordinal);
            foreach (string vocabulary in new[] { "smolvlm", "llama3" })
            {
                var v = c.GetProperty(vocabulary);
                string decoded = v.TryGetProperty("decoded", out var d) ? d.GetString()! : text;
                string skipped = v.TryGetProperty("decoded_skip_special", out var s) ? s.GetString()! : decoded;
                expected[vocabulary] = new Expectation(TestFixtures.Ints(v.GetProperty("ids")), decoded, skipped);
            }

            result.Add(new CorpusCase(index++, c.GetProperty("category").GetString()!, text, expected));
        }

        return result;
    }

    private sealed record Expectation(int[] Ids, string Decoded, string DecodedSkipSpecial);

    private sealed record CorpusCase(int Index, string Category, string Text, Dictionary<string, Expectation> Expected);
}
