using Idefics3.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>SwiGLU: down(silu(gate(x)) * up(x)): [.., H] -> [.., F] -> [.., H].</summary>
internal sealed class TextMlp : nn.Module
{
    public readonly Linear gate_proj;
    public readonly Linear up_proj;
    public readonly Linear down_proj;

    public TextMlp(WeightSource w, string name, TextConfig c)
        : base(name)
    {
        gate_proj = new Linear(w, name + ".gate_proj", c.HiddenSize, c.IntermediateSize, false);
        up_proj = new Linear(w, name + ".up_proj", c.HiddenSize, c.IntermediateSize, false);
        down_proj = new Linear(w, name + ".down_proj", c.IntermediateSize, c.HiddenSize, false);
        RegisterComponents();
    }

    public Tensor forward(Tensor x) => down_proj.forward(nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x));
}
