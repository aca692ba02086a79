using Idefics3.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>fc2(gelu_tanh(fc1(x))): [.., D] -> [.., I] -> [.., D].</summary>
internal sealed class VisionMlp : nn.Module
{
    public readonly Linear fc1;
    public readonly Linear fc2;

    public VisionMlp(WeightSource w, string name, VisionConfig c)
        : base(name)
    {
        fc1 = new Linear(w, name + ".fc1", c.HiddenSize, c.IntermediateSize, true);
        fc2 = new Linear(w, name + ".fc2", c.IntermediateSize, c.HiddenSize, true);
        RegisterComponents();
    }

    public Tensor forward(Tensor x) =>
        fc2.forward(nn.functional.gelu(fc1.forward(x), TorchSharp.Modules.GELU.Approximate.tanh));
}
