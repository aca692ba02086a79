using System.Globalization;
using Idefics3.Configuration;

namespace Idefics3.Imaging;

/// <summary>The effective settings of the image processor for one call (configuration plus caller overrides).</summary>
internal sealed record ImageProcessingSettings
{
    /// <summary>Gets the target longest edge of the first resize.</summary>
    public required int LongestEdge { get; init; }

    /// <summary>Gets the tile edge.</summary>
    public required int TileSize { get; init; }

    /// <summary>Gets a value indicating whether images are split into tiles plus a global frame.</summary>
    public bool DoImageSplitting { get; init; } = true;

    /// <summary>Gets a value indicating whether the first resize runs.</summary>
    public bool DoResize { get; init; } = true;

    /// <summary>Gets a value indicating whether pixels are rescaled.</summary>
    public bool DoRescale { get; init; } = true;

    /// <summary>Gets the rescale factor.</summary>
    public double RescaleFactor { get; init; } = 1.0 / 255.0;

    /// <summary>Gets a value indicating whether pixels are normalised.</summary>
    public bool DoNormalize { get; init; } = true;

    /// <summary>Gets the per-channel mean.</summary>
    public IReadOnlyList<float> Mean { get; init; } = [0.5f, 0.5f, 0.5f];

    /// <summary>Gets the per-channel standard deviation.</summary>
    public IReadOnlyList<float> Std { get; init; } = [0.5f, 0.5f, 0.5f];

    /// <summary>Gets how transparency is flattened.</summary>
    public AlphaHandling AlphaHandling { get; init; } = AlphaHandling.CompositeOnWhite;

    /// <summary>Gets the pixel limit checked from the image header.</summary>
    public long MaxPixels { get; init; } = ImageDecodeOptions.DefaultMaxPixels;

    /// <summary>Builds settings from a checkpoint's preprocessor configuration.</summary>
    /// <param name="config">The configuration.</param>
    /// <returns>The settings.</returns>
    public static ImageProcessingSettings FromConfig(PreprocessorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new ImageProcessingSettings
        {
            LongestEdge = config.LongestEdge,
            TileSize = config.TileSize,
            DoImageSplitting = config.DoImageSplitting,
            DoResize = config.DoResize,
            DoRescale = config.DoRescale,
            RescaleFactor = config.RescaleFactor,
            DoNormalize = config.DoNormalize,
            Mean = config.ImageMean,
            Std = config.ImageStd,
        };
    }

    /// <summary>Gets a stable text form of every setting that changes the output, for cache keys.</summary>
    public string CacheKey => string.Join(
        ";",
        LongestEdge.ToString(CultureInfo.InvariantCulture),
        TileSize.ToString(CultureInfo.InvariantCulture),
        DoImageSplitting,
        DoResize,
        DoRescale,
        RescaleFactor.ToString("R", CultureInfo.InvariantCulture),
        DoNormalize,
        string.Join(",", Mean.Select(m => m.ToString("R", CultureInfo.InvariantCulture))),
        string.Join(",", Std.Select(m => m.ToString("R", CultureInfo.InvariantCulture))),
        AlphaHandling);
}
