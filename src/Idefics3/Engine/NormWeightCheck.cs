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
    /// <summary>The weights file of a folder for messages: model.safetensors, else its index, else the folder.</summary>
    private static string WeightsFile(string modelPath)
    {
        foreach (string name in new[] { "model.safetensors", "model.safetensors.index.json" })
        {
            string path = Path.Combine(modelPath, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return modelPath;
    }

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
                throw new CheckpointException(WeightsFile(modelPath), $"tensor '{name}' holds NaN or infinite values (corrupt checkpoint)");
            }
        }
    }
}
