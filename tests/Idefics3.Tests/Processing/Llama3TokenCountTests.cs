using Idefics3.Configuration;
using Idefics3.Processing;
using Idefics3.Tests;
using Idefics3.Tests.Imaging;

namespace Idefics3.Tests.Processing;

public class Llama3TokenCountTests
{
    private static readonly Lazy<Idefics3Processor> _processor = new(() =>
        new Idefics3Processor(TestFixtures.Llama3Tokenizer, null, new PreprocessorConfig(), new ProcessorConfig { ImageSeqLen = 169 }));

    internal static byte[] Png(int width, int height) =>
        TestImages.Png(TestImages.Rgba(width, height, (x, y) => ((byte)(x * 7), (byte)(y * 5), (byte)((x + y) * 3), 255)), width, height);

    [Theory]
    [InlineData(100, 80, true, 4, 4, 3032)]
    [InlineData(500, 300, true, 3, 4, 2319)]
    [InlineData(2000, 300, true, 1, 4, 893)]
    [InlineData(300, 600, true, 4, 2, 1608)]
    [InlineData(500, 300, false, 0, 0, 180)]
    public void Raw_prompt_with_tokenizer_bos_has_the_documented_idefics3_token_count(int width, int height, bool split, int rows, int cols, int expected)
    {
        var image = Png(width, height);
        var options = new ProcessorOptions { DoImageSplitting = split };

        var counted = _processor.Value.CountTextTokens("<image>What is this?", [image], options);
        var processed = _processor.Value.ProcessText("<image>What is this?", [image], options);

        Assert.Equal(expected, counted.TotalTokens);
        Assert.Equal(expected, processed.InputIds.Length);
        Assert.Equal((rows, cols), (processed.Images[0].Rows, processed.Images[0].Cols));
        Assert.Equal(128000, processed.InputIds[0]);
        Assert.NotEqual(128000, processed.InputIds[1]);
        Assert.Equal(169 * processed.Images[0].FrameCount, counted.ImageTokens);
    }

    [Fact]
    public void Templated_prompt_gets_one_bos_by_default_and_two_in_legacy_mode()
    {
        var image = Png(100, 80);
        string prompt = "<|begin_of_text|>User:<image>What is this?<end_of_utterance>\nAssistant:";

        var single = _processor.Value.CountTextTokens(prompt, [image]);
        var legacy = _processor.Value.CountTextTokens(prompt, [image], new ProcessorOptions { LegacyDoubleBos = true });

        Assert.Equal(single.TotalTokens + 1, legacy.TotalTokens);
        var ids = _processor.Value.Tokenize(prompt);
        Assert.Equal(128000, ids[0]);
        Assert.NotEqual(128000, ids[1]);
    }
}
