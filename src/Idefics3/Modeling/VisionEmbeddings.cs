using Idefics3.Configuration;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>Patch embedding + learned position embedding: pixels [F, C, H, W] -> [F, N², D].</summary>
internal sealed class VisionEmbeddings : nn.Module
{
    public readonly VisionPatchEmbedding patch_embedding;
    public readonly Embedding position_embedding;

    public VisionEmbeddings(WeightSource w, string name, VisionConfig c)
        : base(name)
    {
        patch_embedding = new VisionPatchEmbedding(w, name + ".patch_embedding", c.NumChannels, c.HiddenSize, c.PatchSize);
        position_embedding = new Embedding(w, name + ".position_embedding", c.NumPatches, c.HiddenSize);
        RegisterComponents();
    }

    // pixels [F, C, H, W], positionIds [F, N²] -> [F, N², D]
    public Tensor forward(Tensor pixels, Tensor positionIds)
    {
        Tensor patches = patch_embedding.forward(pixels).flatten(2).transpose(1, 2); // [F, N², D], token = row*N + col
        return patches.Add(position_embedding.forward(positionIds));
    }
}
