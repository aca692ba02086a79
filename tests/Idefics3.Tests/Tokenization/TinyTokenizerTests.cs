using System.Text.Json;
using Idefics3.Tests;
using Idefics3.Tokenization;

namespace Idefics3.Tests.Tokenization;

public class TinyTokenizerTests
{
    public static TheoryData<int> CaseIndexes()
    {
        using var doc = TestFixtures.Json("tokenizer_verification.json");
        var data = new TheoryData<int>();
        for (int i = 0; i < doc.RootElement.GetProperty("cases").GetArrayLength(); i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIndexes))]
    public void Fast_and_slow_tiny_tokenizers_match_hugging_face_ids_with_bos(int index)
    {
        using var doc = TestFixtures.Json("tokenizer_verification.json");
        var c = doc.RootElement.GetProperty("cases")[index];
        string text = c.GetProperty("text").GetString()!;
        var expected = TestFixtures.Ints(c.GetProperty("ids_with_special"));
        string dir = TestFixtures.TinyModelDirectory;
        var slow = HuggingFaceTokenizer.FromSlowFiles(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"), Path.Combine(dir, "tokenizer_config.json"));

        Assert.Equal(expected, TestFixtures.TinyTokenizer.Encode(text, addSpecialTokens: true));
        Assert.Equal(expected, slow.Encode(text, addSpecialTokens: true));
        Assert.Equal(expected[1..], TestFixtures.TinyTokenizer.Encode(text));
    }

    [Theory]
    [MemberData(nameof(CaseIndexes))]
    public void Tiny_decode_round_trips_text(int index)
    {
        using var doc = TestFixtures.Json("tokenizer_verification.json");
        string text = doc.RootElement.GetProperty("cases")[index].GetProperty("text").GetString()!;
        var tokenizer = TestFixtures.TinyTokenizer;
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void Skip_special_drops_every_special_flagged_added_token()
    {
        var tokenizer = TestFixtures.TinyTokenizer;
        var ids = tokenizer.Encode("<fake_token_around_image><row_1_col_1><image>hi<end_of_utterance>", addSpecialTokens: true);
        Assert.Equal("hi", tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Directory_without_tokenizer_files_is_a_configuration_error()
    {
        string dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            var ex = Assert.Throws<Idefics3.Configuration.ConfigurationException>(() => HuggingFaceTokenizer.FromDirectory(dir));
            Assert.Contains("tokenizer.json", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
