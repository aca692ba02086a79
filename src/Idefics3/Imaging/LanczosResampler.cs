namespace Idefics3.Imaging;

/// <summary>
/// Pillow's 8-bit LANCZOS resize (<c>libImaging/Resample.c</c>), reproduced bit for bit: separable, horizontal pass
/// first into a uint8 intermediate holding only the rows the vertical pass needs, coefficients computed and normalised in
/// double, then converted to 22-bit fixed point; each output byte is <c>clip8((2^21 + sum(in * k)) &gt;&gt; 22)</c>.
/// A pass is skipped when its dimension is unchanged. Rows are processed in parallel.
/// </summary>
internal static class LanczosResampler
{
    private const int PrecisionBits = 32 - 8 - 2;
    private const double Support = 3.0;

    /// <summary>Resizes an RGB image to the given size exactly as <c>PIL.Image.resize(size, Image.LANCZOS)</c>.</summary>
    /// <param name="source">The source picture.</param>
    /// <param name="width">Target width.</param>
    /// <param name="height">Target height.</param>
    /// <returns>The resized picture (the source itself when the size is unchanged).</returns>
    public static RgbImage Resize(RgbImage source, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        bool needHorizontal = width != source.Width;
        bool needVertical = height != source.Height;
        if (!needHorizontal && !needVertical)
        {
            return source;
        }

        var (boundsH, kernelH, ksizeH) = Coefficients(source.Width, width);
        var (boundsV, kernelV, ksizeV) = Coefficients(source.Height, height);
        int firstRow = boundsV[0];
        int lastRow = boundsV[(height * 2) - 2] + boundsV[(height * 2) - 1];

        var current = source;
        if (needHorizontal)
        {
            for (int i = 0; i < height; i++)
            {
                boundsV[i * 2] -= firstRow;
            }

            current = Horizontal(source, width, firstRow, lastRow - firstRow, boundsH, kernelH, ksizeH);
        }

        if (needVertical)
        {
            current = Vertical(current, height, boundsV, kernelV, ksizeV);
        }

        return current;
    }

    /// <summary>Pillow's <c>precompute_coeffs</c> + <c>normalize_coeffs_8bpc</c>.</summary>
    internal static (int[] Bounds, int[] Kernel, int KSize) Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = scale < 1.0 ? 1.0 : scale;
        double support = Support * filterScale;
        int ksize = ((int)Math.Ceiling(support) * 2) + 1;
        var bounds = new int[outSize * 2];
        var kernel = new int[outSize * ksize];
        var weights = new double[ksize];
        double ss = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0)
            {
                xmin = 0;
            }

            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize)
            {
                xmax = inSize;
            }

            xmax -= xmin;
            for (int x = 0; x < xmax; x++)
            {
                double w = Lanczos((x + xmin - center + 0.5) * ss);
                weights[x] = w;
                ww += w;
            }

            for (int x = 0; x < xmax; x++)
            {
                double k = ww != 0.0 ? weights[x] / ww : weights[x];
                kernel[(xx * ksize) + x] = k < 0
                    ? (int)(-0.5 + (k * (1 << PrecisionBits)))
                    : (int)(0.5 + (k * (1 << PrecisionBits)));
            }

            bounds[xx * 2] = xmin;
            bounds[(xx * 2) + 1] = xmax;
        }

        return (bounds, kernel, ksize);
    }

    private static double Sinc(double x)
    {
        if (x == 0.0)
        {
            return 1.0;
        }

        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    private static double Lanczos(double x) => -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0;

    private static byte Clip8(int value)
    {
        if (value >= (1 << PrecisionBits << 8))
        {
            return 255;
        }

        if (value <= 0)
        {
            return 0;
        }

        return (byte)(value >> PrecisionBits);
    }

    private static RgbImage Horizontal(RgbImage source, int outWidth, int firstRow, int rows, int[] bounds, int[] kernel, int ksize)
    {
        var output = new byte[outWidth * rows * 3];
        byte[] input = source.Pixels;
        int inStride = source.Width * 3;
        int outStride = outWidth * 3;
        RunRows(rows, outWidth * ksize, row =>
        {
            int inRow = (row + firstRow) * inStride;
            int outRow = row * outStride;
            for (int xx = 0; xx < outWidth; xx++)
            {
                int xmin = bounds[xx * 2];
                int xmax = bounds[(xx * 2) + 1];
                int k = xx * ksize;
                int s0 = 1 << (PrecisionBits - 1);
                int s1 = s0;
                int s2 = s0;
                int p = inRow + (xmin * 3);
                for (int x = 0; x < xmax; x++, p += 3)
                {
                    int c = kernel[k + x];
                    s0 += input[p] * c;
                    s1 += input[p + 1] * c;
                    s2 += input[p + 2] * c;
                }

                int o = outRow + (xx * 3);
                output[o] = Clip8(s0);
                output[o + 1] = Clip8(s1);
                output[o + 2] = Clip8(s2);
            }
        });
        return new RgbImage(outWidth, rows, output);
    }

    private static RgbImage Vertical(RgbImage source, int outHeight, int[] bounds, int[] kernel, int ksize)
    {
        int width = source.Width;
        int stride = width * 3;
        var output = new byte[stride * outHeight];
        byte[] input = source.Pixels;
        RunRows(outHeight, width * ksize, yy =>
        {
            int ymin = bounds[yy * 2];
            int ymax = bounds[(yy * 2) + 1];
            int k = yy * ksize;
            int outRow = yy * stride;
            Span<int> acc = stride <= 8192 ? stackalloc int[stride] : new int[stride];
            acc.Fill(1 << (PrecisionBits - 1));
            for (int y = 0; y < ymax; y++)
            {
                int c = kernel[k + y];
                var row = input.AsSpan((ymin + y) * stride, stride);
                for (int x = 0; x < stride; x++)
                {
                    acc[x] += row[x] * c;
                }
            }

            for (int x = 0; x < stride; x++)
            {
                output[outRow + x] = Clip8(acc[x]);
            }
        });
        return new RgbImage(width, outHeight, output);
    }

    private static void RunRows(int rows, int workPerRow, Action<int> body)
    {
        if ((long)rows * workPerRow < 200_000)
        {
            for (int r = 0; r < rows; r++)
            {
                body(r);
            }

            return;
        }

        Parallel.For(0, rows, body);
    }
}
