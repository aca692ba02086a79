namespace Idefics3.Imaging;

/// <summary>An 8-bit RGB picture, rows top to bottom, pixels interleaved R, G, B (HWC).</summary>
internal sealed class RgbImage
{
    /// <summary>Initializes a new instance of the <see cref="RgbImage"/> class over existing pixels.</summary>
    /// <param name="width">Width in pixels (positive).</param>
    /// <param name="height">Height in pixels (positive).</param>
    /// <param name="pixels">The <c>width * height * 3</c> bytes.</param>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != (long)width * height * 3)
        {
            throw new ArgumentException($"Expected {(long)width * height * 3} bytes for {width}x{height} RGB, got {pixels.Length}.", nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>Gets the width in pixels.</summary>
    public int Width { get; }

    /// <summary>Gets the height in pixels.</summary>
    public int Height { get; }

    /// <summary>Gets the pixel bytes (HWC, RGB).</summary>
#pragma warning disable CA1819 // Pixel buffers are handed to resamplers and tensors without copies.
    public byte[] Pixels { get; }
#pragma warning restore CA1819

    /// <summary>Copies a rectangle out of the image.</summary>
    /// <param name="x">Left column.</param>
    /// <param name="y">Top row.</param>
    /// <param name="width">Width of the crop.</param>
    /// <param name="height">Height of the crop.</param>
    /// <returns>The cropped picture.</returns>
    public RgbImage Crop(int x, int y, int width, int height)
    {
        if (x < 0 || y < 0 || width <= 0 || height <= 0 || x + width > Width || y + height > Height)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Crop {x},{y} {width}x{height} is outside {Width}x{Height}.");
        }

        var result = new byte[width * height * 3];
        for (int row = 0; row < height; row++)
        {
            Buffer.BlockCopy(Pixels, (((y + row) * Width) + x) * 3, result, row * width * 3, width * 3);
        }

        return new RgbImage(width, height, result);
    }
}
