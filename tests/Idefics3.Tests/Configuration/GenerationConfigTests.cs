using Idefics3.Configuration;

namespace Idefics3.Tests.Configuration;

public sealed class GenerationConfigTests
{
    [Fact]
    public void Eos_token_id_may_be_a_list()
    {
        var c = GenerationConfig.Parse("""{"bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009, 128258], "pad_token_id": 128002}""");
        Assert.Equal(128000, c.BosTokenId);
        Assert.Equal([128001, 128008, 128009, 128258], c.EosTokenIds);
        Assert.Equal(128002, c.PadTokenId);
        Assert.Null(c.MaxNewTokens);
    }

    [Fact]
    public void Eos_token_id_may_be_a_single_integer()
    {
        var c = GenerationConfig.Parse("""{"bos_token_id": 0, "eos_token_id": 49279, "pad_token_id": 2, "max_new_tokens": 64, "max_length": 100}""");
        Assert.Equal([49279], c.EosTokenIds);
        Assert.Equal((0, 2, 64, 100), (c.BosTokenId, c.PadTokenId, c.MaxNewTokens, c.MaxLength));
    }

    [Fact]
    public void Tiny_generation_config_loads_from_the_model_folder()
    {
        var c = GenerationConfig.LoadIfPresent(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-idefics3", "model"));
        Assert.NotNull(c);
        Assert.Equal([257], c.EosTokenIds);
        Assert.Equal(298, c.PadTokenId);
        Assert.Null(GenerationConfig.LoadIfPresent(AppContext.BaseDirectory));
    }

    [Fact]
    public void Eos_token_id_of_the_wrong_type_names_the_field()
    {
        var ex = Assert.Throws<ConfigurationException>(() => GenerationConfig.Parse("""{"eos_token_id": "2"}"""));
        Assert.Equal(("generation_config.json", "eos_token_id"), (ex.File, ex.Field));
        ex = Assert.Throws<ConfigurationException>(() => GenerationConfig.Parse("""{"eos_token_id": [1, "x"]}"""));
        Assert.Equal("eos_token_id", ex.Field);
    }

    [Fact]
    public void Without_generation_config_the_model_config_eos_is_used_top_level_first_as_from_model_config()
    {
        var genuine = Idefics3Config.Load(TestFixtures.SmolVlmDirectory);
        Assert.Equal([2], GenerationConfig.FromModelConfig(genuine).EosTokenIds);

        string json = File.ReadAllText(Path.Combine(TestFixtures.SmolVlmDirectory, "config.json"));
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        node["eos_token_id"] = new System.Text.Json.Nodes.JsonArray(49279, 7);
        var topLevel = Idefics3Config.Parse(node.ToJsonString());
        Assert.Equal([49279, 7], GenerationConfig.FromModelConfig(topLevel).EosTokenIds);
    }
}
