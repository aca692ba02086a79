using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Idefics3.Modeling;

/// <summary>Llama RMSNorm: normalise in float32, cast back, then scale: w * (x / sqrt(mean(x²) + eps)).</summary>
internal sealed class RmsNorm : nn.Module
{
    public readonly Parameter weight;
    private readonly double _eps;

    public RmsNorm(WeightSource w, string name, long dim, double eps)
        : base(name)
    {
        weight = w.Get(name + ".weight", dim);
        _eps = eps;
        RegisterComponents();
    }

    // x [..., H] -> [..., H]
    public Tensor forward(Tensor x)
    {
        Tensor x32 = x.dtype == ScalarType.Float32 ? x : x.to_type(ScalarType.Float32);
        Tensor y = x32 * x32.Pow(2).mean([-1], keepdim: true).Add(_eps).rsqrt();
        return weight * (x.dtype == ScalarType.Float32 ? y : y.to_type(x.dtype));
    }
}
