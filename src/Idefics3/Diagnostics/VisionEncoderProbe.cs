using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Diagnostics;

/// <summary>Times the vision tower and connector of a loaded engine on one tile of random pixels.</summary>
public static class VisionEncoderProbe
{
    /// <summary>Encodes one random tile (after one untimed warm-up) <paramref name="repeats"/> times.</summary>
    /// <param name="engine">The loaded engine.</param>
    /// <param name="repeats">How many timed encodes (at least 1).</param>
    /// <param name="cancellationToken">Stops between encodes.</param>
    /// <returns>The wall time of each encode in milliseconds.</returns>
    public static double[] Measure(Idefics3Engine engine, int repeats, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        using Tensor pixels = RandomPixels(engine.Config.Vision.ImageSize);
        engine.Network.EncodeImages(pixels, null, cancellationToken).Dispose();
        var milliseconds = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            engine.Network.EncodeImages(pixels, null, cancellationToken).Dispose();
            milliseconds[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        return milliseconds;
    }

    /// <summary>Uniform pixels in [-1, 1) [1, 3, tile, tile]; the scalars are held for the calls (never left to the finalizer).</summary>
    private static Tensor RandomPixels(int tile)
    {
        using var scope = torch.NewDisposeScope();
        using Scalar two = 2.0.ToScalar();
        using Scalar one = 1.0.ToScalar();
        return torch.rand([1, 3, tile, tile]).mul(two).sub(one).MoveToOuterDisposeScope();
    }
}
