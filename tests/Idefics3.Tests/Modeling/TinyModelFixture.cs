using System.Buffers.Binary;
using System.Text.Json;
using Idefics3.Checkpoints;
using Idefics3.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Tests.Modeling;

/// <summary>The tiny HF checkpoint, loaded once in float32, and the golden tensors and JSON it was checked against.</summary>
public sealed class TinyModelFixture : IDisposable
{
    public static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-idefics3");

    public static string ModelFolder => Path.Combine(Root, "model");

    public static readonly string[] AllCases = ["text_only", "single_image", "padded_image_slot", "partial_mask_image", "split_2x2", "batch2_padded"];

    private readonly Dictionary<string, Tensor> _golden = [];

    public TinyModelFixture()
    {
        Model = Idefics3ForConditionalGeneration.Load(ModelFolder);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "golden.json")));
        Json = doc.RootElement.Clone();
        string path = Path.Combine(Root, "golden_tensors.safetensors");
        using var file = SafetensorsFile.Open(path);
        byte[] all = File.ReadAllBytes(path);
        long dataStart = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(all);
        foreach (SafetensorsEntry e in file.Entries.Values)
        {
            ScalarType type = e.Dtype switch
            {
                "F32" => ScalarType.Float32,
                "I64" => ScalarType.Int64,
                _ => throw new InvalidDataException(e.Dtype),
            };
            Tensor t = torch.empty([.. e.Shape], type);
            t.bytes = all.AsSpan((int)(dataStart + e.Begin), (int)(e.End - e.Begin)).ToArray();
            _golden[e.Name] = t;
        }
    }

    internal Idefics3ForConditionalGeneration Model { get; }

    public JsonElement Json { get; }

    public JsonElement Case(string name) => Json.GetProperty("cases").GetProperty(name);

    public Tensor Golden(string caseName, string tensor) => _golden[caseName + "/" + tensor];

    public Tensor? GoldenOrNull(string caseName, string tensor) => _golden.GetValueOrDefault(caseName + "/" + tensor);

    public static float MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(b.shape, a.shape);
        using var scope = torch.NewDisposeScope();
        return (a.to_type(ScalarType.Float32) - b.to_type(ScalarType.Float32)).abs().max().item<float>();
    }

    public void Dispose()
    {
        Model.Dispose();
        foreach (Tensor t in _golden.Values)
        {
            t.Dispose();
        }
    }
}
