using System.Text.Json;
using Idefics3.Processing;
using Idefics3.Tests.Imaging;

namespace Idefics3.Tests.Processing;

/// <summary>
/// Full conversations through the processor loaded from the genuine SmolVLM-256M-Instruct files give exactly Hugging
/// Face's prompt ids (Fixtures/smolvlm-prompts/prompts_golden.json, produced by generate-prompts.js next to it with
/// Hugging Face's Rust tokenizer and the documented expansion rules).
/// </summary>
public class GenuineSmolVlmPromptTests
{
    private static readonly Lazy<Idefics3Processor> s_processor = new(() => Idefics3Processor.FromDirectory(TestFixtures.SmolVlmDirectory));

    public static TheoryData<int> CaseIndexes()
    {
        using var doc = TestFixtures.Json("smolvlm-prompts", "prompts_golden.json");
        var data = new TheoryData<int>();
        for (int i = 0; i < doc.RootElement.GetProperty("cases").GetArrayLength(); i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Fact]
    public void Tokenizer_gives_the_published_ids()
    {
        var tokenizer = TestFixtures.SmolVlmTokenizer;

        Assert.Equal([11126], tokenizer.Encode("User"));
        Assert.Equal([42], tokenizer.Encode(":"));
        Assert.Equal([9519, 9531, 42], tokenizer.Encode("Assistant:"));
        Assert.Empty(tokenizer.PrefixSpecialIds);
        Assert.Equal(145, tokenizer.AddedTokens.Count);
        Assert.Equal(49280, tokenizer.VocabularySize);
        Assert.Equal("<|im_start|>", tokenizer.BosToken);
        Assert.Equal("<end_of_utterance>", tokenizer.EosToken);
    }

    [Fact]
    public void Row_column_and_global_markers_are_single_tokens()
    {
        var tokenizer = TestFixtures.SmolVlmTokenizer;

        Assert.Equal(49152, tokenizer.TokenToId("<global-img>"));
        Assert.Equal(49153, tokenizer.TokenToId("<row_1_col_1>"));
        Assert.Equal(49188, tokenizer.TokenToId("<row_6_col_6>"));
        Assert.Equal([49189, 49153, 49190, 198, 49190], tokenizer.Encode("<fake_token_around_image><row_1_col_1><image>\n<image>"));
    }

    [Theory]
    [MemberData(nameof(CaseIndexes))]
    public void Conversation_renders_and_tokenizes_to_hugging_face_prompt_ids(int index)
    {
        using var doc = TestFixtures.Json("smolvlm-prompts", "prompts_golden.json");
        var c = doc.RootElement.GetProperty("cases")[index];
        var conversation = c.GetProperty("messages").EnumerateArray().Select(ToMessage).ToList();
        var options = new ProcessorOptions { DoImageSplitting = c.GetProperty("do_image_splitting").GetBoolean() };
        var processor = s_processor.Value;

        string rendered = processor.RenderPrompt(conversation);
        var processed = processor.Process(conversation, options);
        var counted = processor.CountTokens(conversation, options);

        Assert.Equal(c.GetProperty("rendered").GetString(), rendered);
        Assert.Equal(c.GetProperty("expanded").GetString(), processed.Prompt);
        Assert.Equal(c.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(), processed.InputIds);
        var grids = c.GetProperty("grids").EnumerateArray().Select(g => (g[0].GetInt32(), g[1].GetInt32())).ToArray();
        Assert.Equal(grids, processed.Images.Select(i => (i.Rows, i.Cols)).ToArray());
        Assert.Equal(processed.InputIds.Length, counted.TotalTokens);
    }

    private static PromptMessage ToMessage(JsonElement message)
    {
        var parts = message.GetProperty("content").EnumerateArray().Select(p => p.GetProperty("type").GetString() == "text"
            ? (PromptContent)new PromptText(p.GetProperty("text").GetString()!)
            : new PromptImage(Png(p.GetProperty("width").GetInt32(), p.GetProperty("height").GetInt32()), "image/png"));
        return new PromptMessage(message.GetProperty("role").GetString()!, parts.ToList());
    }

    private static byte[] Png(int width, int height) =>
        TestImages.Png(TestImages.Rgba(width, height, (_, _) => (120, 80, 40, 255)), width, height);
}
