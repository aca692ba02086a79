using Idefics3.Configuration;

namespace Idefics3.Tests.Configuration;

/// <summary>The genuine SmolVLM-256M-Instruct files (byte-identical to the Hugging Face repository) bind as a user's folder.</summary>
public class GenuineSmolVlmConfigTests
{
    [Fact]
    public void Config_json_with_its_unused_keys_binds_to_the_published_shapes()
    {
        var config = Idefics3Config.Load(TestFixtures.SmolVlmDirectory);

        Assert.Equal((512, 16, 12, 768, 12), (config.Vision.ImageSize, config.Vision.PatchSize, config.Vision.NumHiddenLayers, config.Vision.HiddenSize, config.Vision.NumAttentionHeads));
        Assert.Equal((30, 9, 3, 576, 64), (config.Text.NumHiddenLayers, config.Text.NumAttentionHeads, config.Text.NumKeyValueHeads, config.Text.HiddenSize, config.Text.HeadDim));
        Assert.Equal(49280, config.Text.VocabSize);
        Assert.Equal(4, config.ScaleFactor);
        Assert.Equal(64, config.ImageSeqLen);
        Assert.Equal(49190, config.ImageTokenId);
        Assert.False(config.TieWordEmbeddings);
        Assert.Equal(100000, config.Text.RopeTheta);
        Assert.Null(config.Text.RopeScaling);
        Assert.Equal(8192, config.Text.MaxPositionEmbeddings);
    }

    [Fact]
    public void Processor_files_bind_to_the_published_settings()
    {
        var pre = PreprocessorConfig.Load(TestFixtures.SmolVlmDirectory);
        var processor = ProcessorConfig.Load(TestFixtures.SmolVlmDirectory);

        Assert.Equal((2048, 512), (pre.LongestEdge, pre.TileSize));
        Assert.True(pre.DoImageSplitting);
        Assert.Equal(64, processor.ImageSeqLen);
    }

    [Fact]
    public void Generation_config_ends_on_end_of_utterance_while_text_config_names_im_end()
    {
        var generation = GenerationConfig.LoadIfPresent(TestFixtures.SmolVlmDirectory)!;
        var config = Idefics3Config.Load(TestFixtures.SmolVlmDirectory);
        var tokenizer = TestFixtures.SmolVlmTokenizer;

        Assert.Equal([49279], generation.EosTokenIds);
        Assert.Equal(0, generation.BosTokenId);
        Assert.Equal([2], config.Text.EosTokenIds);
        Assert.Equal(49279, tokenizer.TokenToId("<end_of_utterance>"));
        Assert.Equal(2, tokenizer.TokenToId("<|im_end|>"));
    }
}
