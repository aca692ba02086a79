using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Idefics3.Modeling;

/// <summary>y = x Wᵀ (+ b). weight [out, in], bias [out].</summary>
internal sealed class Linear : nn.Module
{
    public readonly Parameter weight;
    public readonly Parameter? bias;

    public Linear(WeightSource w, string name, long inFeatures, long outFeatures, bool hasBias)
        : base(name)
    {
        weight = w.Get(name + ".weight", outFeatures, inFeatures);
        bias = hasBias ? w.Get(name + ".bias", outFeatures) : null;
        RegisterComponents();
    }

    /// <summary>Wraps an existing weight (tied lm_head).</summary>
    public Linear(string name, Parameter tiedWeight)
        : base(name)
    {
        weight = tiedWeight;
        RegisterComponents();
    }

    // x [..., in] -> [..., out]
    public Tensor forward(Tensor x) => BFloat16Gemv.TryForward(x, weight, bias) ?? nn.functional.linear(x, weight, bias);
}
