using Idefics3.Imaging;
using Idefics3.Processing;
using Idefics3.Tests;

namespace Idefics3.Tests.Processing;

public class ProcessorBehaviourTests
{
    private static readonly Lazy<Idefics3Processor> _tiny = new(() => Idefics3Processor.FromDirectory(TestFixtures.TinyModelDirectory));

    [Fact]
    public void Images_render_where_they_sit_among_texts()
    {
        var png = Llama3TokenCountTests.Png(30, 20);
        var conversation = new[]
        {
            PromptMessage.FromText("system", "Be brief."),
            PromptMessage.Create("user", new PromptText("Left "), new PromptImage(png), new PromptText(" middle "), new PromptImage(png), new PromptText(" right")),
        };

        Assert.Equal(
            "<|begin_of_text|>System: Be brief.<end_of_utterance>\nUser: Left <image> middle <image> right<end_of_utterance>\nAssistant:",
            _tiny.Value.RenderPrompt(conversation));
        var result = _tiny.Value.Process(conversation, new ProcessorOptions { DoImageSplitting = false });
        Assert.Equal(2, result.Images.Count);
        Assert.Equal(new[] { 2, 3, 56, 56 }, result.PixelValuesShape);
        Assert.Contains(" middle <fake_token_around_image><global-img>", result.Prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_only_conversation_has_no_pixels()
    {
        var result = _tiny.Value.Process([PromptMessage.FromText("user", "Hi")]);
        Assert.Null(result.PixelValues);
        Assert.Null(result.PixelAttentionMask);
        Assert.Equal(0, result.Tokens.ImageTokens);
    }

    [Fact]
    public void Literal_image_placeholder_in_text_is_a_clear_mismatch_error()
    {
        var ex = Assert.Throws<ImagePlaceholderMismatchException>(() => _tiny.Value.Process([PromptMessage.FromText("user", "what is <image>?")]));
        Assert.Equal(1, ex.Placeholders);
        Assert.Equal(0, ex.Images);
        Assert.Throws<ImagePlaceholderMismatchException>(() => ImagePromptBuilder.Expand("<image><image>", [(0, 0)], 4));
    }

    [Fact]
    public void Token_count_reads_only_the_header_and_agrees_with_processing()
    {
        var headerOnly = Idefics3.Tests.Imaging.CraftedPng.Build(120, 100, [1, 2, 3, 4]);
        var conversation = new[] { PromptMessage.Create("user", new PromptImage(headerOnly), new PromptText("Hi")) };

        var counted = _tiny.Value.CountTokens(conversation);

        Assert.Throws<ImageDecodeException>(() => _tiny.Value.Process(conversation));
        var png = Llama3TokenCountTests.Png(120, 100);
        var full = _tiny.Value.Process([PromptMessage.Create("user", new PromptImage(png), new PromptText("Hi"))]);
        Assert.Equal((full.Tokens.TotalTokens, full.Tokens.TextTokens, full.Tokens.ImageTokens), (counted.TotalTokens, counted.TextTokens, counted.ImageTokens));
        Assert.Equal(full.Tokens.FramesPerImage, counted.FramesPerImage);
    }

    [Fact]
    public void Caller_longest_edge_changes_the_grid()
    {
        var png = Llama3TokenCountTests.Png(120, 100);
        var small = _tiny.Value.ProcessImage(png, new ProcessorOptions { LongestEdge = 112 });
        var large = _tiny.Value.ProcessImage(png);
        Assert.Equal((2, 2), (small.Rows, small.Cols));
        Assert.Equal((4, 4), (large.Rows, large.Cols));
    }
}
