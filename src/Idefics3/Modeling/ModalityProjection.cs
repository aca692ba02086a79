using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>The bias-free projection of pixel-shuffled vision features: [.., D·r²] -> [.., Ht].</summary>
internal sealed class ModalityProjection : nn.Module
{
    public readonly Linear proj;

    public ModalityProjection(WeightSource w, string name, long inFeatures, long outFeatures)
        : base(name)
    {
        proj = new Linear(w, name + ".proj", inFeatures, outFeatures, false);
        RegisterComponents();
    }

    public Tensor forward(Tensor x) => proj.forward(x);
}
