using System.Security.Cryptography;
using System.Text;
using Idefics3.Configuration;
using Idefics3.Processing;
using Idefics3.Tests;
using Idefics3.Tests.Imaging;

namespace Idefics3.Tests.Processing;

public class ProcessorGoldenTests
{
    private static readonly Lazy<Idefics3Processor> _tiny = new(() => Idefics3Processor.FromDirectory(TestFixtures.TinyModelDirectory));

    private static byte[] TinyImage(string name) => File.ReadAllBytes(TestFixtures.PathOf("images", "tiny", name));

    [Theory]
    [InlineData("split_2x2", "golden_C_120x100.png", "What do you see?", 112, true)]
    [InlineData("single_image", "golden_A_56x56.png", "Describe this image.", null, false)]
    public void Tiny_golden_cases_give_identical_ids_prompt_and_pixels(string name, string image, string text, int? longestEdge, bool split)
    {
        using var doc = TestFixtures.Json("tiny_model_golden.json");
        var c = doc.RootElement.GetProperty(name);
        var conversation = new[] { PromptMessage.Create("user", new PromptImage(TinyImage(image)), new PromptText(text)) };
        var options = new ProcessorOptions { LongestEdge = longestEdge, DoImageSplitting = split, LegacyDoubleBos = true };

        var result = _tiny.Value.Process(conversation, options);

        var expectedIds = TestFixtures.Ints(c.GetProperty("input_ids"));
        Assert.Equal(expectedIds, result.InputIds);
        Assert.Equal(c.GetProperty("input_text_decoded").GetString(), _tiny.Value.Tokenizer.Decode(result.InputIds));
        if (c.TryGetProperty("expanded_prompt", out var expanded))
        {
            Assert.Equal(expanded.GetString(), result.Prompt);
        }

        var shape = TestFixtures.Ints(c.GetProperty("pixel_values_shape"));
        Assert.Equal(shape[1..], result.PixelValuesShape);
        int per = shape[2] * shape[3] * shape[4];
        var frames = c.GetProperty("frame_sha256_f32");
        for (int f = 0; f < shape[1]; f++)
        {
            Assert.Equal(frames[f].GetString(), ImageProcessorGoldenTests.ShaOfFrame(result.PixelValues!, f * per, per));
        }

        Assert.All(result.PixelAttentionMask!, m => Assert.Equal(1, m));
        var single = _tiny.Value.Process(conversation, options with { LegacyDoubleBos = false });
        Assert.Equal(expectedIds[1..], single.InputIds);
    }

    public static TheoryData<string> ExpansionCases()
    {
        using var doc = TestFixtures.Json("imgproc_golden.json");
        var data = new TheoryData<string>();
        foreach (var p in doc.RootElement.GetProperty("prompt_expansion").EnumerateObject())
        {
            data.Add(p.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ExpansionCases))]
    public void Prompt_expansion_matches_hugging_face(string name)
    {
        using var doc = TestFixtures.Json("imgproc_golden.json");
        string rendered = doc.RootElement.GetProperty("chat_template_render").GetString()!;
        var c = doc.RootElement.GetProperty("prompt_expansion").GetProperty(name);
        string expanded = ImagePromptBuilder.Expand(rendered, [(c.GetProperty("rows").GetInt32(), c.GetProperty("cols").GetInt32())], c.GetProperty("image_seq_len").GetInt32());

        Assert.Equal(c.GetProperty("expanded_prompt_sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(expanded))));
        Assert.Equal(c.GetProperty("expanded_prompt_len_chars").GetInt32(), expanded.Length);
        var ids = _tiny.Value.Tokenize(expanded, new ProcessorOptions { LegacyDoubleBos = true });
        Assert.Equal(c.GetProperty("tiny_tokenizer_num_ids").GetInt32(), ids.Length);
        Assert.Equal(c.GetProperty("num_image_tokens").GetInt32(), ids.Count(i => i == _tiny.Value.ImageTokenId));
        if (c.TryGetProperty("tiny_tokenizer_input_ids", out var golden))
        {
            Assert.Equal(c.GetProperty("expanded_prompt").GetString(), expanded);
            Assert.Equal(TestFixtures.Ints(golden), ids);
        }
    }

    [Fact]
    public void Processing_the_whole_tiny_image_case_matches_the_prompt_expansion_golden()
    {
        using var doc = TestFixtures.Json("imgproc_golden.json");
        var c = doc.RootElement.GetProperty("prompt_expansion").GetProperty("tiny/split=True/gradient_500x300");
        var conversation = new[] { PromptMessage.Create("user", new PromptImage(TinyImage("gradient_500x300.png")), new PromptText("What is in this image?")) };

        var result = _tiny.Value.Process(conversation, new ProcessorOptions { LegacyDoubleBos = true });

        Assert.Equal(TestFixtures.Ints(c.GetProperty("tiny_tokenizer_input_ids")), result.InputIds);
        Assert.Equal(new[] { 13, 3, 56, 56 }, result.PixelValuesShape);
        Assert.Equal((3, 4, 13), (result.Images[0].Rows, result.Images[0].Cols, result.Images[0].FrameCount));
        Assert.Equal(result.InputIds.Length, result.Tokens.TotalTokens);
        Assert.Equal(52, result.Tokens.ImageTokens);
    }
}
