using Idefics3.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>HF <c>Idefics3Model</c>: vision_model, connector, text_model.</summary>
internal sealed class Idefics3Model : nn.Module
{
    public readonly VisionTransformer vision_model;
    public readonly Connector connector;
    public readonly TextModel text_model;

    public Idefics3Model(WeightSource w, string name, Idefics3Config c, Device device)
        : base(name)
    {
        vision_model = new VisionTransformer(w, name + ".vision_model", c.Vision);
        connector = new Connector(w, name + ".connector", c);
        text_model = new TextModel(w, name + ".text_model", c.Text, device);
        RegisterComponents();
    }
}
