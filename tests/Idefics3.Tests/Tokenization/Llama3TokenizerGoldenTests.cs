using System.Text.Json;
using Idefics3.Tests;
using Idefics3.Tokenization;

namespace Idefics3.Tests.Tokenization;

public class Llama3TokenizerGoldenTests
{
    public static TheoryData<int> CaseIndexes()
    {
        using var doc = TestFixtures.Json("llama3", "tokenizer_golden.json");
        var data = new TheoryData<int>();
        for (int i = 0; i < doc.RootElement.GetProperty("cases").GetArrayLength(); i++)
        {
            data.Add(i);
        }

        return data;
    }

    private static JsonElement Case(int index)
    {
        using var doc = TestFixtures.Json("llama3", "tokenizer_golden.json");
        return doc.RootElement.GetProperty("cases")[index].Clone();
    }

    [Theory]
    [MemberData(nameof(CaseIndexes))]
    public void Encode_matches_hugging_face_ids_with_and_without_bos(int index)
    {
        var c = Case(index);
        string text = c.GetProperty("text").GetString()!;
        var tokenizer = TestFixtures.Llama3Tokenizer;

        Assert.Equal(TestFixtures.Ints(c.GetProperty("ids")), tokenizer.Encode(text));
        Assert.Equal(TestFixtures.Ints(c.GetProperty("ids_with_special_tokens")), tokenizer.Encode(text, addSpecialTokens: true));
    }

    [Theory]
    [MemberData(nameof(CaseIndexes))]
    public void Token_strings_match_hugging_face(int index)
    {
        var c = Case(index);
        var expected = c.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(expected, TestFixtures.Llama3Tokenizer.EncodeToTokens(c.GetProperty("text").GetString()!));
    }

    [Theory]
    [MemberData(nameof(CaseIndexes))]
    public void Decode_matches_hugging_face_with_and_without_special_tokens(int index)
    {
        var c = Case(index);
        var ids = TestFixtures.Ints(c.GetProperty("ids_with_special_tokens"));
        var tokenizer = TestFixtures.Llama3Tokenizer;

        Assert.Equal("<|begin_of_text|>" + c.GetProperty("decoded").GetString(), tokenizer.Decode(ids));
        Assert.Equal(c.GetProperty("decoded_skip_special").GetString(), tokenizer.Decode(ids, skipSpecialTokens: true));
        Assert.Equal(c.GetProperty("decoded_cleanup").GetString(), tokenizer.Decode(ids.Skip(1), cleanUpTokenizationSpaces: true));
    }

    [Theory]
    [MemberData(nameof(CaseIndexes))]
    public void Streaming_decode_never_emits_broken_characters_and_concatenates_to_full_decode(int index)
    {
        var c = Case(index);
        var ids = TestFixtures.Ints(c.GetProperty("ids"));
        var tokenizer = TestFixtures.Llama3Tokenizer;
        var decoder = tokenizer.CreateStreamingDecoder(skipSpecialTokens: false);
        var pieces = ids.Select(decoder.Append).ToList();
        pieces.Add(decoder.Flush());

        Assert.All(pieces, p => Assert.DoesNotContain('\uFFFD', p));
        Assert.Equal(tokenizer.Decode(ids), string.Concat(pieces));
    }

    [Fact]
    public void Idefics3_added_tokens_have_the_documented_ids()
    {
        var tokenizer = TestFixtures.Llama3Tokenizer;
        Assert.Equal(128256, tokenizer.TokenToId("<fake_token_around_image>"));
        Assert.Equal(128257, tokenizer.TokenToId("<image>"));
        Assert.Equal(128258, tokenizer.TokenToId("<end_of_utterance>"));
        Assert.Equal([128000], tokenizer.PrefixSpecialIds);
        Assert.Equal(128259, tokenizer.VocabularySize);
        Assert.Equal([27, 9951, 21743, 29], tokenizer.Encode("<global-img>"));
    }

    [Fact]
    public void Streaming_decode_holds_an_emoji_split_across_byte_tokens()
    {
        var tokenizer = TestFixtures.Llama3Tokenizer;
        var ids = tokenizer.Encode("🙂");
        Assert.True(ids.Length > 1, "the emoji should need several byte-level tokens for this test to mean anything");
        var decoder = tokenizer.CreateStreamingDecoder();

        var first = ids[..^1].Select(decoder.Append).ToList();

        Assert.All(first, p => Assert.Equal(string.Empty, p));
        Assert.Equal("🙂", decoder.Append(ids[^1]));
    }

    [Fact]
    public void Long_text_encodes_and_round_trips()
    {
        var tokenizer = TestFixtures.Llama3Tokenizer;
        string text = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog, 1234 times! Ünïcödé 中文 🙂\n", 300));
        var ids = tokenizer.Encode(text);
        Assert.Equal(text, tokenizer.Decode(ids));
    }
}
