using System.Text.Json;
using Idefics3.Tokenization;

namespace Idefics3.Tests.Tokenization;

public class PreTokenizerFamilyTests
{
    private static HuggingFaceTokenizer Build(object preTokenizer, bool ignoreMerges = false)
    {
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++)
        {
            vocab[ByteLevelAlphabet.ToChar((byte)b).ToString()] = b;
        }

        vocab["12"] = 256;
        vocab["ab"] = 257;
        vocab["abab"] = 258;
        var json = new
        {
            version = "1.0",
            added_tokens = new[] { new { id = 259, content = "<|im_start|>", special = true, lstrip = false, rstrip = false } },
            normalizer = (object?)null,
            pre_tokenizer = preTokenizer,
            post_processor = (object?)null,
            decoder = new { type = "ByteLevel" },
            model = new { type = "BPE", ignore_merges = ignoreMerges, vocab, merges = new[] { "1 2", "a b" } },
        };
        return HuggingFaceTokenizer.FromJson(JsonSerializer.Serialize(json));
    }

    [Fact]
    public void SmolLM2_digits_pre_tokenizer_keeps_every_digit_separate()
    {
        var smol = Build(new
        {
            type = "Sequence",
            pretokenizers = new object[]
            {
                new { type = "Digits", individual_digits = true },
                new { type = "ByteLevel", add_prefix_space = false, trim_offsets = true, use_regex = true },
            },
        });
        var gpt2 = Build(new { type = "ByteLevel", add_prefix_space = false, trim_offsets = true, use_regex = true });
        int space = ' ';

        Assert.Equal(new[] { 259, 257, space, '1', '2' }, smol.Encode("<|im_start|>ab 12"));
        Assert.Equal(new[] { 259, 257, space, 256 }, gpt2.Encode("<|im_start|>ab 12"));
        Assert.Empty(smol.PrefixSpecialIds);
        Assert.Equal("ab 12", smol.Decode(smol.Encode("<|im_start|>ab 12"), skipSpecialTokens: true));
    }

    [Fact]
    public void Ignore_merges_emits_a_whole_vocabulary_word_directly()
    {
        var split = new { type = "Split", pattern = new { Regex = "\\s+|\\S+" }, behavior = "Isolated", invert = false };
        var withMerges = Build(split);
        var ignoring = Build(split, ignoreMerges: true);

        Assert.Equal(new[] { 257, 257 }, withMerges.Encode("abab"));
        Assert.Equal(new[] { 258 }, ignoring.Encode("abab"));
    }

    [Fact]
    public void Unsupported_pre_tokenizer_is_a_configuration_error()
    {
        var ex = Assert.Throws<Idefics3.Configuration.ConfigurationException>(() => Build(new { type = "Metaspace" }));
        Assert.Contains("Metaspace", ex.Message, StringComparison.Ordinal);
    }
}
