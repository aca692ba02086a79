using System.Text.Json.Nodes;
using Idefics3.Modeling;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using W = Idefics3.Tests.Checkpoints.SafetensorsWriter;

namespace Idefics3.Tests.Modeling.FastDecode;

/// <summary>
/// A model folder with the tiny fixture's configuration but other decoder shapes (heads, KV heads, head size) and
/// random weights, for comparing the fast decode step with libtorch on shapes the fixture does not have.
/// </summary>
internal sealed class RandomTextModel : IDisposable
{
    private RandomTextModel(string folder) => Folder = folder;

    public string Folder { get; }

    public static RandomTextModel Create(int hidden, int heads, int kvHeads, int headDim, int intermediate, int layers, int seed)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"idefics3-fastdecode-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(TinyModelFixture.ModelFolder, "config.json")))!;
        JsonNode text = config["text_config"]!;
        text["hidden_size"] = hidden;
        text["num_attention_heads"] = heads;
        text["num_key_value_heads"] = kvHeads;
        text["head_dim"] = headDim;
        text["intermediate_size"] = intermediate;
        text["num_hidden_layers"] = layers;
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());

        Idefics3.Configuration.Idefics3Config parsed = Idefics3.Configuration.Idefics3Config.Load(folder);
        using var scope = NewDisposeScope();
        using var module = Idefics3CausalLM.CreateOnMeta(parsed, ScalarType.Float32);
        var generator = new Generator((ulong)seed);
        var items = new List<W.Item>();
        foreach ((string name, TorchSharp.Modules.Parameter p) in module.named_parameters())
        {
            // Norm weights near 1, everything else small (std 0.05), so activations stay in a realistic range.
            Tensor value = name.EndsWith("norm.weight", StringComparison.Ordinal)
                ? torch.rand(p.shape, generator: generator).Add(0.5)
                : torch.randn(p.shape, generator: generator).Mul(0.05);
            items.Add(W.FromTensor(name, value));
        }

        W.Write(Path.Combine(folder, "model.safetensors"), items);
        return new RandomTextModel(folder);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // memory maps may still be open on some systems; the temp folder is cleaned up later
        }
    }
}
