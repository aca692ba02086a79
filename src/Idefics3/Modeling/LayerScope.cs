using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>
/// Runs one layer in its own dispose scope, so its intermediates (attention scores, MLP activations) are freed when the
/// layer ends instead of piling up until the whole forward pass ends: without this, a 17-tile image held every layer's
/// temporaries at once (gigabytes).
/// </summary>
internal static class LayerScope
{
    /// <summary>Applies <paramref name="layer"/> to <paramref name="input"/>; the result survives, everything else is freed.</summary>
    /// <param name="input">The layer input.</param>
    /// <param name="layer">The layer.</param>
    /// <param name="disposeInput">Whether to free <paramref name="input"/> afterwards (true for an earlier layer's output).</param>
    /// <returns>The layer output, owned by the caller's scope.</returns>
    public static Tensor Run(Tensor input, Func<Tensor, Tensor> layer, bool disposeInput = true)
    {
        Tensor output;
        using (NewDisposeScope())
        {
            output = layer(input).MoveToOuterDisposeScope();
        }

        if (disposeInput)
        {
            input.Dispose();
        }

        return output;
    }
}
