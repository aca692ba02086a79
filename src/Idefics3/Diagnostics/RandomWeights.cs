using Idefics3.Configuration;
using Idefics3.Modeling;

namespace Idefics3.Diagnostics;

/// <summary>
/// Random bfloat16 weights with the exact tensor names and shapes of a checkpoint, so speed and memory can be measured
/// without downloading the real one (random values do not change speed). Norm weights are 1, biases 0, everything else
/// uniform with standard deviation 0.02, so activations stay finite.
/// </summary>
public static class RandomWeights
{
    /// <summary>Counts the parameters (elements of all weights) of the model a configuration describes.</summary>
    /// <param name="config">The model configuration.</param>
    /// <returns>The number of elements over all tensors of the checkpoint.</returns>
    public static long CountParameters(Idefics3Config config) =>
        TensorShapes(config).Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));

    /// <summary>
    /// Writes a <c>model.safetensors</c> file with random weights for the model a configuration describes, streaming
    /// tensor by tensor (memory stays flat; the 17 GB Idefics3-8B file takes about 90 s).
    /// </summary>
    /// <param name="path">The file to write (replaced if present; written through a <c>.partial</c> file first).</param>
    /// <param name="config">The model configuration.</param>
    public static void WriteSafetensors(string path, Idefics3Config config)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RandomSafetensorsWriter.Write(path, TensorShapes(config));
    }

    /// <summary>The checkpoint's tensor names and shapes, from the model built on the meta device (no memory).</summary>
    private static List<(string Name, long[] Shape)> TensorShapes(Idefics3Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        using var module = Idefics3CausalLM.CreateOnMeta(config);
        return [.. module.named_parameters().Select(p => (p.name, p.parameter.shape))];
    }
}
