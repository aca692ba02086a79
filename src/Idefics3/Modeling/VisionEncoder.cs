using Idefics3.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>The stack of vision encoder layers.</summary>
internal sealed class VisionEncoder : nn.Module
{
    public readonly TorchSharp.Modules.ModuleList<VisionEncoderLayer> layers = new();

    public VisionEncoder(WeightSource w, string name, VisionConfig c)
        : base(name)
    {
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            layers.Add(new VisionEncoderLayer(w, $"{name}.layers.{i}", c));
        }

        RegisterComponents();
    }
}
