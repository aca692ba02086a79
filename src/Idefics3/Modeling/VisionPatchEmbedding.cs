using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Idefics3.Modeling;

/// <summary>Conv2d(C, D, kernel P, stride P, valid padding, bias): pixels [N, C, H, W] -> [N, D, H/P, W/P].</summary>
internal sealed class VisionPatchEmbedding : nn.Module
{
    public readonly Parameter weight; // [D, C, P, P]
    public readonly Parameter bias;   // [D]
    private readonly long _patch;

    public VisionPatchEmbedding(WeightSource w, string name, long channels, long dim, long patch)
        : base(name)
    {
        weight = w.Get(name + ".weight", dim, channels, patch, patch);
        bias = w.Get(name + ".bias", dim);
        _patch = patch;
        RegisterComponents();
    }

    public Tensor forward(Tensor pixels) => nn.functional.conv2d(pixels, weight, bias, strides: [_patch, _patch]);
}
