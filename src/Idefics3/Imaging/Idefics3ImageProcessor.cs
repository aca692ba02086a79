using System.Security.Cryptography;

namespace Idefics3.Imaging;

/// <summary>
/// Hugging Face's slow <c>Idefics3ImageProcessor</c> (transformers 4.47.1) on uint8 RGB pictures: longest-edge resize
/// (even short side), resize to multiples of the tile edge, row-major tiles plus a global frame resized to one tile,
/// then rescale and normalise. Every resize is Pillow LANCZOS (<see cref="LanczosResampler"/>).
/// </summary>
internal static class Idefics3ImageProcessor
{
    /// <summary>Pillow's upper bound on the longest edge after the first resize (<c>MAX_IMAGE_SIZE</c>).</summary>
    public const int MaxImageSize = 4096;

    /// <summary>Computes the sizes and tile grid for an image size, without pixels (used for token budgeting).</summary>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="settings">The settings.</param>
    /// <returns>The layout.</returns>
    public static ImageLayout ComputeLayout(int width, int height, ImageProcessingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        int w = width;
        int h = height;
        if (settings.DoResize)
        {
            (w, h) = ResizeLongestEdge(width, height, settings.LongestEdge);
        }

        int t = settings.TileSize;
        if (!settings.DoImageSplitting)
        {
            return new ImageLayout(w, h, t, t, 0, 0, t, t);
        }

        var (w2, h2) = ResizeForVisionEncoder(w, h, t);
        if (h2 > t || w2 > t)
        {
            int rows = (int)Math.Ceiling(h2 / (double)t);
            int cols = (int)Math.Ceiling(w2 / (double)t);
            int th = (int)Math.Ceiling(h2 / (double)rows);
            int tw = (int)Math.Ceiling(w2 / (double)cols);
            return new ImageLayout(w, h, w2, h2, rows, cols, tw, th);
        }

        return new ImageLayout(w, h, w2, h2, 0, 0, w2, h2);
    }

    /// <summary>Decodes, resizes, splits and normalises one encoded image.</summary>
    /// <param name="encoded">The encoded image (PNG, JPEG, WebP, GIF, BMP, TIFF).</param>
    /// <param name="settings">The settings.</param>
    /// <returns>The processed image.</returns>
    /// <exception cref="ImageDecodeException">The image cannot be decoded or is too large.</exception>
    public static ProcessedImage Process(ReadOnlySpan<byte> encoded, ImageProcessingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var rgb = ImageDecoder.Decode(encoded, new ImageDecodeOptions { AlphaHandling = settings.AlphaHandling, MaxPixels = settings.MaxPixels });
        return Process(rgb, Convert.ToHexStringLower(SHA256.HashData(encoded)), settings);
    }

    /// <summary>Resizes, splits and normalises an already decoded RGB picture.</summary>
    /// <param name="image">The picture.</param>
    /// <param name="contentHash">The identity recorded in the result (for caching).</param>
    /// <param name="settings">The settings.</param>
    /// <returns>The processed image.</returns>
    public static ProcessedImage Process(RgbImage image, string contentHash, ImageProcessingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(contentHash);
        ArgumentNullException.ThrowIfNull(settings);
        var layout = ComputeLayout(image.Width, image.Height, settings);
        var resized = LanczosResampler.Resize(image, layout.ResizedWidth, layout.ResizedHeight);
        var frames = new List<RgbImage>();
        if (!settings.DoImageSplitting)
        {
            frames.Add(LanczosResampler.Resize(resized, settings.TileSize, settings.TileSize));
        }
        else
        {
            var split = LanczosResampler.Resize(resized, layout.SplitWidth, layout.SplitHeight);
            if (layout.Rows > 0)
            {
                for (int r = 0; r < layout.Rows; r++)
                {
                    for (int c = 0; c < layout.Cols; c++)
                    {
                        int x = c * layout.TileWidth;
                        int y = r * layout.TileHeight;
                        frames.Add(split.Crop(x, y, Math.Min(layout.TileWidth, split.Width - x), Math.Min(layout.TileHeight, split.Height - y)));
                    }
                }

                frames.Add(LanczosResampler.Resize(split, settings.TileSize, settings.TileSize));
            }
            else
            {
                frames.Add(split);
            }
        }

        return new ProcessedImage(contentHash, image.Width, image.Height, layout, frames, Normalize(frames, settings));
    }

    /// <summary>Rescales and normalises uint8 frames into CHW float32, with Hugging Face's arithmetic (rescale in double, normalise in float).</summary>
    /// <param name="frames">The frames.</param>
    /// <param name="settings">The settings.</param>
    /// <returns>The concatenated CHW values of all frames.</returns>
    public static float[] Normalize(IReadOnlyList<RgbImage> frames, ImageProcessingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(settings);
        var lut = new float[3, 256];
        for (int ch = 0; ch < 3; ch++)
        {
            for (int v = 0; v < 256; v++)
            {
                float x = settings.DoRescale ? (float)(v * settings.RescaleFactor) : v;
                if (settings.DoNormalize)
                {
                    x = (x - settings.Mean[ch]) / settings.Std[ch];
                }

                lut[ch, v] = x;
            }
        }

        long total = frames.Sum(f => (long)f.Width * f.Height * 3);
        var output = new float[total];
        long offset = 0;
        foreach (var frame in frames)
        {
            int plane = frame.Width * frame.Height;
            byte[] px = frame.Pixels;
            var o = output.AsSpan((int)offset, plane * 3);
            for (int i = 0; i < plane; i++)
            {
                o[i] = lut[0, px[i * 3]];
                o[plane + i] = lut[1, px[(i * 3) + 1]];
                o[(2 * plane) + i] = lut[2, px[(i * 3) + 2]];
            }

            offset += plane * 3;
        }

        return output;
    }

    private static (int Width, int Height) ResizeLongestEdge(int width, int height, int maxLen)
    {
        double aspect = (double)width / height;
        int w;
        int h;
        if (width >= height)
        {
            w = maxLen;
            h = (int)(w / aspect);
            if (h % 2 != 0)
            {
                h++;
            }
        }
        else
        {
            h = maxLen;
            w = (int)(h * aspect);
            if (w % 2 != 0)
            {
                w++;
            }
        }

        h = Math.Max(h, 1);
        w = Math.Max(w, 1);
        aspect = (double)w / h;
        if (w >= h && w > MaxImageSize)
        {
            w = MaxImageSize;
            h = (int)(w / aspect);
        }
        else if (h > w && h > MaxImageSize)
        {
            h = MaxImageSize;
            w = (int)(h * aspect);
        }

        return (Math.Max(w, 1), Math.Max(h, 1));
    }

    private static (int Width, int Height) ResizeForVisionEncoder(int width, int height, int tile)
    {
        double aspect = (double)width / height;
        int w;
        int h;
        if (width >= height)
        {
            w = (int)Math.Ceiling(width / (double)tile) * tile;
            h = (int)(w / aspect);
            h = (int)Math.Ceiling(h / (double)tile) * tile;
        }
        else
        {
            h = (int)Math.Ceiling(height / (double)tile) * tile;
            w = (int)(h * aspect);
            w = (int)Math.Ceiling(w / (double)tile) * tile;
        }

        return (Math.Max(w, 1), Math.Max(h, 1));
    }
}
