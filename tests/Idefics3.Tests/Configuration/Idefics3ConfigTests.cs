using System.Text.Json.Nodes;
using Idefics3.Configuration;

namespace Idefics3.Tests.Configuration;

public sealed class Idefics3ConfigTests
{
    private static readonly string Configs = Path.Combine(AppContext.BaseDirectory, "Fixtures", "configs");

    private static Idefics3Config LoadFixture(string name) => Idefics3Config.Load(Path.Combine(Configs, name + ".config.json"));

    [Fact]
    public void Idefics3_8B_config_binds_every_consumed_field()
    {
        Idefics3Config c = LoadFixture("idefics3-8b-llama3");
        Assert.Equal("idefics3", c.ModelType);
        Assert.Equal(128257, c.ImageTokenId);
        Assert.Equal(2, c.ScaleFactor);
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal(128002, c.PadTokenId);
        Assert.Equal(169, c.ImageSeqLen);
        Assert.Equal(4608, c.ConnectorInputSize);

        VisionConfig v = c.Vision;
        Assert.Equal((1152, 4304, 27, 16, 3), (v.HiddenSize, v.IntermediateSize, v.NumHiddenLayers, v.NumAttentionHeads, v.NumChannels));
        Assert.Equal((364, 14, 26, 676, 72), (v.ImageSize, v.PatchSize, v.PatchesPerSide, v.NumPatches, v.HeadDim));
        Assert.Equal("gelu_pytorch_tanh", v.HiddenAct);
        Assert.Equal(1e-6, v.LayerNormEps);

        TextConfig t = c.Text;
        Assert.Equal((128259, 4096, 14336, 32), (t.VocabSize, t.HiddenSize, t.IntermediateSize, t.NumHiddenLayers));
        Assert.Equal((32, 8, 128, 4), (t.NumAttentionHeads, t.NumKeyValueHeads, t.HeadDim, t.QueriesPerKeyValueHead));
        Assert.Equal(1e-5, t.RmsNormEps);
        Assert.Equal(500000.0, t.RopeTheta);
        Assert.Equal(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), t.RopeScaling);
        Assert.Equal(131072, t.MaxPositionEmbeddings);
        Assert.Equal("silu", t.HiddenAct);
        Assert.False(t.AttentionBias);
        Assert.False(t.MlpBias);
        Assert.Equal(128000, t.BosTokenId);
        Assert.Equal([128001, 128008, 128009], t.EosTokenIds);
        Assert.Equal(128002, t.PadTokenId);
    }

    [Fact]
    public void SmolVLM_256M_config_binds_every_consumed_field_and_ignores_junk_keys()
    {
        Idefics3Config c = LoadFixture("smolvlm-256m-instruct");
        Assert.Equal(("idefics3", 49190, 4, false, 128002), (c.ModelType, c.ImageTokenId, c.ScaleFactor, c.TieWordEmbeddings, c.PadTokenId));
        Assert.Equal(64, c.ImageSeqLen);
        Assert.Equal(12288, c.ConnectorInputSize);
        VisionConfig v = c.Vision;
        Assert.Equal((768, 3072, 12, 12, 3), (v.HiddenSize, v.IntermediateSize, v.NumHiddenLayers, v.NumAttentionHeads, v.NumChannels));
        Assert.Equal((512, 16, 32, 1024, 64), (v.ImageSize, v.PatchSize, v.PatchesPerSide, v.NumPatches, v.HeadDim));
        Assert.Equal(("gelu_pytorch_tanh", 1e-6), (v.HiddenAct, v.LayerNormEps));
        TextConfig t = c.Text;
        Assert.Equal((49280, 576, 1536, 30), (t.VocabSize, t.HiddenSize, t.IntermediateSize, t.NumHiddenLayers));
        Assert.Equal((9, 3, 64), (t.NumAttentionHeads, t.NumKeyValueHeads, t.HeadDim));
        Assert.Equal((1e-5, 100000.0, 8192), (t.RmsNormEps, t.RopeTheta, t.MaxPositionEmbeddings));
        Assert.Null(t.RopeScaling);
        Assert.Equal(("silu", false, false), (t.HiddenAct, t.AttentionBias, t.MlpBias));
        Assert.Null(t.BosTokenId);
        Assert.Empty(t.EosTokenIds);
        Assert.Equal(2, t.PadTokenId);
    }

    [Fact]
    public void SmolVLM_500M_config_binds_text_and_vision_sizes()
    {
        Idefics3Config c = LoadFixture("smolvlm-500m-instruct");
        Assert.Equal((49190, 4, 64), (c.ImageTokenId, c.ScaleFactor, c.ImageSeqLen));
        Assert.Equal((768, 12, 512, 16), (c.Vision.HiddenSize, c.Vision.NumHiddenLayers, c.Vision.ImageSize, c.Vision.PatchSize));
        TextConfig t = c.Text;
        Assert.Equal((49280, 960, 2560, 32, 15, 5, 64), (t.VocabSize, t.HiddenSize, t.IntermediateSize, t.NumHiddenLayers, t.NumAttentionHeads, t.NumKeyValueHeads, t.HeadDim));
        Assert.Equal((100000.0, 8192), (t.RopeTheta, t.MaxPositionEmbeddings));
        Assert.Null(t.RopeScaling);
    }

    [Fact]
    public void SmolVLM_2_2B_config_allows_image_size_not_a_multiple_of_patch_size()
    {
        Idefics3Config c = LoadFixture("smolvlm-instruct-2.2b");
        Assert.Equal((49153, 3, 81, 10368), (c.ImageTokenId, c.ScaleFactor, c.ImageSeqLen, c.ConnectorInputSize));
        Assert.Equal((1152, 4304, 27, 16), (c.Vision.HiddenSize, c.Vision.IntermediateSize, c.Vision.NumHiddenLayers, c.Vision.NumAttentionHeads));
        Assert.Equal((384, 14, 27, 729), (c.Vision.ImageSize, c.Vision.PatchSize, c.Vision.PatchesPerSide, c.Vision.NumPatches));
        TextConfig t = c.Text;
        Assert.Equal((49155, 2048, 8192, 24, 32, 32, 64), (t.VocabSize, t.HiddenSize, t.IntermediateSize, t.NumHiddenLayers, t.NumAttentionHeads, t.NumKeyValueHeads, t.HeadDim));
        Assert.Equal((273768.0, 16384), (t.RopeTheta, t.MaxPositionEmbeddings));
        Assert.Equal(0, t.BosTokenId);
        Assert.Equal([0], t.EosTokenIds);
    }

    [Fact]
    public void Tiny_config_gets_hf_class_defaults_for_omitted_keys()
    {
        Idefics3Config c = Idefics3Config.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-idefics3", "model"));
        Assert.Equal(("gelu_pytorch_tanh", 1e-6, 3), (c.Vision.HiddenAct, c.Vision.LayerNormEps, c.Vision.NumChannels));
        Assert.Equal("silu", c.Text.HiddenAct);
        Assert.Equal((16, 2), (c.Text.HeadDim, c.Text.NumKeyValueHeads));
        Assert.Equal(4, c.ImageSeqLen);
    }

    [Fact]
    public void Head_dim_is_derived_from_hidden_and_heads_when_absent()
    {
        Idefics3Config c = Parse(j => j["text_config"]!.AsObject().Remove("head_dim"));
        Assert.Equal(64, c.Text.HeadDim); // 576 / 9
    }

    [Fact]
    public void Smolvlm_model_type_is_accepted()
    {
        Assert.Equal("smolvlm", Parse(j => j["model_type"] = "smolvlm").ModelType);
    }

    [Theory]
    [InlineData("dynamic")]
    [InlineData("yarn")]
    public void Unknown_rope_type_is_rejected_naming_the_field(string type)
    {
        var ex = Fails(j => j["text_config"]!["rope_scaling"] = new JsonObject { ["rope_type"] = type, ["factor"] = 2.0 });
        Assert.Equal("text_config.rope_scaling.rope_type", ex.Field);
        Assert.Contains(type, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_rope_type_means_no_scaling()
    {
        Idefics3Config c = Parse(j => j["text_config"]!["rope_scaling"] = new JsonObject { ["rope_type"] = "default" });
        Assert.Null(c.Text.RopeScaling);
    }

    [Fact]
    public void Llama3_rope_scaling_without_factor_is_rejected()
    {
        var ex = Fails(j => j["text_config"]!["rope_scaling"] = new JsonObject { ["rope_type"] = "llama3", ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 8192 });
        Assert.Equal("text_config.rope_scaling.factor", ex.Field);
    }

    [Fact]
    public void Heads_not_divisible_by_kv_heads_is_rejected()
    {
        var ex = Fails(j => j["text_config"]!["num_key_value_heads"] = 4); // 9 heads
        Assert.Equal("text_config.num_key_value_heads", ex.Field);
    }

    [Fact]
    public void Text_hidden_not_divisible_by_heads_without_head_dim_is_rejected()
    {
        var ex = Fails(j =>
        {
            j["text_config"]!.AsObject().Remove("head_dim");
            j["text_config"]!["hidden_size"] = 577;
        });
        Assert.Equal("text_config.num_attention_heads", ex.Field);
    }

    [Fact]
    public void Vision_hidden_not_divisible_by_heads_is_rejected()
    {
        var ex = Fails(j => j["vision_config"]!["num_attention_heads"] = 7);
        Assert.Equal("vision_config.num_attention_heads", ex.Field);
    }

    [Fact]
    public void Patch_grid_not_divisible_by_scale_factor_is_rejected()
    {
        var ex = Fails(j => j["scale_factor"] = 3); // 512/16 = 32 patches per side
        Assert.Equal("scale_factor", ex.Field);
        Assert.Contains("32", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Image_size_smaller_than_patch_is_rejected()
    {
        var ex = Fails(j => j["vision_config"]!["image_size"] = 8);
        Assert.Equal("vision_config.image_size", ex.Field);
    }

    [Fact]
    public void Processor_image_seq_len_must_agree_with_the_config()
    {
        Idefics3Config c = LoadFixture("smolvlm-256m-instruct");
        c.ValidateImageSeqLen(64);
        var ex = Assert.Throws<ConfigurationException>(() => c.ValidateImageSeqLen(81));
        Assert.Equal(("processor_config.json", "image_seq_len"), (ex.File, ex.Field));
    }

    [Fact]
    public void Unsupported_model_type_and_missing_blocks_are_rejected()
    {
        Assert.Equal("model_type", Fails(j => j["model_type"] = "llava").Field);
        Assert.Equal("model_type", Fails(j => j.AsObject().Remove("model_type")).Field);
        Assert.Equal("text_config", Fails(j => j.AsObject().Remove("text_config")).Field);
        Assert.Equal("text_config.model_type", Fails(j => j["text_config"]!["model_type"] = "mistral").Field);
    }

    [Fact]
    public void Wrongly_typed_values_and_bad_json_name_file_and_field()
    {
        var ex = Fails(j => j["text_config"]!["hidden_size"] = "576");
        Assert.Equal(("config.json", "text_config.hidden_size"), (ex.File, ex.Field));
        Assert.Equal("text_config.hidden_act", Fails(j => j["text_config"]!["hidden_act"] = "gelu").Field);
        Assert.Equal("text_config.attention_bias", Fails(j => j["text_config"]!["attention_bias"] = true).Field);
        var bad = Assert.Throws<ConfigurationException>(() => Idefics3Config.Parse("{ \"model_type\": ", "config.json"));
        Assert.Equal("config.json", bad.File);
    }

    [Fact]
    public void Missing_file_is_a_configuration_error()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Idefics3Config.Load(Path.Combine(Configs, "does-not-exist")));
        Assert.Contains("not found", ex.Message, StringComparison.Ordinal);
    }

    private static Idefics3Config Parse(Action<JsonNode> edit)
    {
        JsonNode node = JsonNode.Parse(File.ReadAllText(Path.Combine(Configs, "smolvlm-256m-instruct.config.json")))!;
        edit(node);
        return Idefics3Config.Parse(node.ToJsonString(), "config.json");
    }

    private static ConfigurationException Fails(Action<JsonNode> edit) => Assert.Throws<ConfigurationException>(() => Parse(edit));
}
