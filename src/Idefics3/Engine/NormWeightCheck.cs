using Idefics3.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Engine;

/// <summary>
/// A load-time check that is cheap and catches a corrupt checkpoint before the first request: every normalisation
/// weight (a few vectors of hidden_size values per layer) must be finite. A NaN or infinity there turns every answer into
/// garbage; checking all weights would read the whole checkpoint, so only the norms are checked.
/// </summary>
internal static class NormWeightCheck
{
    /// <summary>Throws when a parameter whose name contains <c>norm</c> holds a NaN or an infinity.</summary>
    /// <param name="module">The loaded network.</param>
    /// <param name="modelPath">The model folder, for the message.</param>
    /// <exception cref="CheckpointException">A norm weight is not finite.</exception>
    public static void ThrowIfNotFinite(nn.Module module, string modelPath)
    {
        using var scope = NewDisposeScope();
        foreach ((string name, TorchSharp.Modules.Parameter parameter) in module.named_parameters())
        {
            if (!name.Contains("norm", StringComparison.Ordinal))
            {
                continue;
            }

            if (!isfinite(parameter).all().item<bool>())
            {
                throw new CheckpointException(modelPath, $"tensor '{name}' holds NaN or infinite values (corrupt checkpoint)");
            }
        }
    }
}
