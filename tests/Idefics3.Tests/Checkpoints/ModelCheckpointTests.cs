using System.Text.Json.Nodes;
using Idefics3.Checkpoints;
using Idefics3.Modeling;
using Idefics3.Tests.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using W = Idefics3.Tests.Checkpoints.SafetensorsWriter;

namespace Idefics3.Tests.Checkpoints;

/// <summary>Loading the tiny HF checkpoint: strict key check, shapes, prefixes, sharding, tied embeddings.</summary>
public sealed class ModelCheckpointTests
{
    private static readonly string TinyWeights = Path.Combine(TinyModelFixture.ModelFolder, "model.safetensors");

    private static TempDir Folder(IEnumerable<W.Item> items, Action<JsonNode>? editConfig = null)
    {
        var dir = new TempDir();
        JsonNode config = JsonNode.Parse(File.ReadAllText(Path.Combine(TinyModelFixture.ModelFolder, "config.json")))!;
        editConfig?.Invoke(config);
        File.WriteAllText(dir.File("config.json"), config.ToJsonString());
        W.Write(dir.File("model.safetensors"), items);
        return dir;
    }

    [Fact]
    public void Module_parameter_names_are_exactly_the_checkpoint_tensor_names()
    {
        using var model = Idefics3ForConditionalGeneration.Load(TinyModelFixture.ModelFolder);
        using var checkpoint = SafetensorsCheckpoint.Open(TinyModelFixture.ModelFolder);
        var names = model.Module.named_parameters().Select(p => p.name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(checkpoint.Names.Order(StringComparer.Ordinal), names);
        Assert.Equal(59, names.Count);
    }

    [Fact]
    public void Missing_and_unexpected_tensors_are_reported_together()
    {
        var items = W.ReadAll(TinyWeights).Where(i => i.Name != "model.text_model.norm.weight").ToList();
        items.Add(W.F32("model.text_model.extra.weight", [1], 1f));
        using var dir = Folder(items);
        var ex = Assert.Throws<CheckpointException>(() => Idefics3ForConditionalGeneration.Load(dir.Path));
        Assert.Contains("1 missing tensors:\n  model.text_model.norm.weight", ex.Message, StringComparison.Ordinal);
        Assert.Contains("1 unexpected tensors:\n  model.text_model.extra.weight", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Shape_mismatch_names_the_tensor_and_both_shapes()
    {
        var items = W.ReadAll(TinyWeights)
            .Select(i => i.Name == "lm_head.weight" ? W.F32(i.Name, [299, 64], new float[299 * 64]) : i)
            .ToList();
        using var dir = Folder(items);
        var ex = Assert.Throws<CheckpointException>(() => Idefics3ForConditionalGeneration.Load(dir.Path));
        Assert.Contains("'lm_head.weight': checkpoint has [299, 64], model expects [300, 64]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sharded_checkpoint_with_language_model_prefix_gives_identical_logits()
    {
        var items = W.ReadAll(TinyWeights)
            .Select(i => i with { Name = i.Name.Replace("model.text_model.", "model.language_model.", StringComparison.Ordinal) })
            .ToList();
        using var dir = new TempDir();
        File.Copy(Path.Combine(TinyModelFixture.ModelFolder, "config.json"), dir.File("config.json"));
        var first = items.Take(30).ToList();
        var second = items.Skip(30).ToList();
        W.Write(dir.File("model-00001-of-00002.safetensors"), first);
        W.Write(dir.File("model-00002-of-00002.safetensors"), second);
        var map = new JsonObject();
        first.ForEach(i => map[i.Name] = "model-00001-of-00002.safetensors");
        second.ForEach(i => map[i.Name] = "model-00002-of-00002.safetensors");
        File.WriteAllText(dir.File("model.safetensors.index.json"), new JsonObject { ["weight_map"] = map }.ToJsonString());

        using var sharded = Idefics3ForConditionalGeneration.Load(dir.Path);
        using var single = Idefics3ForConditionalGeneration.Load(TinyModelFixture.ModelFolder);
        using var scope = torch.NewDisposeScope();
        Tensor ids = torch.tensor(new long[] { 256, 10, 20, 30, 40 }).view(1, 5);
        Tensor pos = torch.arange(5L).view(1, 5);
        Tensor a = sharded.Forward(sharded.EmbedTokens(ids), pos, null, null, false);
        Tensor b = single.Forward(single.EmbedTokens(ids), pos, null, null, false);
        Assert.Equal(0f, TinyModelFixture.MaxAbsDiff(a, b));
    }

    [Fact]
    public void Tied_word_embeddings_load_without_lm_head_and_reuse_the_token_embedding()
    {
        var items = W.ReadAll(TinyWeights).Where(i => i.Name != "lm_head.weight").ToList();
        using var dir = Folder(items, c => c["tie_word_embeddings"] = true);
        using var model = Idefics3ForConditionalGeneration.Load(dir.Path);
        using var scope = torch.NewDisposeScope();
        Tensor ids = torch.tensor(new long[] { 256, 10, 20 }).view(1, 3);
        Tensor logits = model.Forward(model.EmbedTokens(ids), torch.arange(3L).view(1, 3), null, null, true);
        Assert.Equal([1L, 1, 300], logits.shape);
        Assert.Same(model.Module.model.text_model.embed_tokens.weight, model.Module.lm_head.weight);
    }

    [Fact]
    public void Untied_config_without_lm_head_is_reported_missing()
    {
        var items = W.ReadAll(TinyWeights).Where(i => i.Name != "lm_head.weight").ToList();
        using var dir = Folder(items);
        var ex = Assert.Throws<CheckpointException>(() => Idefics3ForConditionalGeneration.Load(dir.Path));
        Assert.Contains("lm_head.weight", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Float32_file_loaded_as_float32_shares_the_mapped_pages()
    {
        using var model = Idefics3ForConditionalGeneration.Load(TinyModelFixture.ModelFolder);
        var weight = model.Module.lm_head.weight;
        Assert.Equal(ScalarType.Float32, weight.dtype);
        Assert.True(weight.storage_offset() > 0, "a zero-copy parameter is a view into the whole-file map");
        using var bf16 = Idefics3ForConditionalGeneration.Load(TinyModelFixture.ModelFolder, new ModelLoadOptions { Dtype = ScalarType.BFloat16 });
        Assert.Equal(ScalarType.BFloat16, bf16.Module.lm_head.weight.dtype);
        Assert.Equal(0, bf16.Module.lm_head.weight.storage_offset());
    }
}
