using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Idefics3.Modeling;

/// <summary>LayerNorm over the last dimension with weight and bias (vision tower).</summary>
internal sealed class LayerNorm : nn.Module
{
    public readonly Parameter weight;
    public readonly Parameter bias;
    private readonly long[] _shape;
    private readonly double _eps;

    public LayerNorm(WeightSource w, string name, long dim, double eps)
        : base(name)
    {
        weight = w.Get(name + ".weight", dim);
        bias = w.Get(name + ".bias", dim);
        _shape = [dim];
        _eps = eps;
        RegisterComponents();
    }

    // x [..., D] -> [..., D]
    public Tensor forward(Tensor x) => nn.functional.layer_norm(x, _shape, weight, bias, _eps);
}
