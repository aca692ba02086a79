using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Idefics3.Modeling;

/// <summary>A lookup table: ids [...] -> rows [..., D]. weight [num, D].</summary>
internal sealed class Embedding : nn.Module
{
    public readonly Parameter weight;

    public Embedding(WeightSource w, string name, long count, long dim)
        : base(name)
    {
        weight = w.Get(name + ".weight", count, dim);
        RegisterComponents();
    }

    public Tensor forward(Tensor ids)
    {
        long[] shape = [.. ids.shape, weight.shape[1]];
        using Tensor flat = ids.reshape(-1);
        return weight.index_select(0, flat).view(shape);
    }
}
