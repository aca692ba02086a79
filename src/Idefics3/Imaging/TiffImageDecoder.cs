using BitMiracle.LibTiff.Classic;

namespace Idefics3.Imaging;

/// <summary>
/// Decodes the first page of a TIFF with LibTiff.NET (BSD-3-Clause) through libtiff's RGBA interface (any photometric
/// interpretation, compression and bit depth libtiff supports). Rows are read in stored order and the Orientation tag
/// is returned for <see cref="ExifOrientation"/>, as Pillow reads the tag through <c>getexif()</c>. Every libtiff error or
/// exception becomes an <see cref="ImageDecodeException"/>; libtiff's messages are collected per call (see
/// <see cref="TiffMessages"/>), nothing is printed.
/// </summary>
internal static class TiffImageDecoder
{
    /// <summary>Reads the first page's header: stored size and orientation tag.</summary>
    public static (int Width, int Height, int Orientation) Identify(ReadOnlySpan<byte> data)
    {
        byte[] copy = data.ToArray();
        using var errors = TiffMessages.Collect();
        return Guard(errors, () =>
        {
            using var tiff = Open(copy, errors);
            return ReadHeader(tiff);
        });
    }

    /// <summary>Decodes the first page after checking its size with <paramref name="checkSize"/>.</summary>
    public static DecodedPixels Decode(ReadOnlySpan<byte> data, Action<int, int> checkSize)
    {
        byte[] copy = data.ToArray();
        using var errors = TiffMessages.Collect();
        return Guard(errors, () =>
        {
            using var tiff = Open(copy, errors);
            var (width, height, orientation) = ReadHeader(tiff);
            checkSize(width, height);
            if (!tiff.RGBAImageOK(out string reason))
            {
                throw new UnsupportedImageFormatException($"This TIFF variant is not supported: {reason}");
            }

            CheckStripsInsideFile(tiff, copy.Length);

            // Read in stored order: the Orientation tag is applied later, exactly as Pillow's exif_transpose does.
            tiff.SetField(TiffTag.ORIENTATION, Orientation.TOPLEFT);
            var raster = new int[(long)width * height];
            if (!tiff.ReadRGBAImageOriented(width, height, raster, Orientation.TOPLEFT, true) || errors.First is not null)
            {
                throw new ImageDecodeException($"The TIFF image data is corrupt or truncated ({width}x{height}): {errors.First ?? "libtiff could not read the pixels"}.");
            }

            var samples = new byte[raster.Length * 4L];
            Buffer.BlockCopy(raster, 0, samples, 0, samples.Length);
            if (!BitConverter.IsLittleEndian)
            {
                for (int i = 0; i < samples.Length; i += 4)
                {
                    (samples[i], samples[i + 1], samples[i + 2], samples[i + 3]) = (samples[i + 3], samples[i + 2], samples[i + 1], samples[i]);
                }
            }

            return new DecodedPixels(width, height, PixelLayout.Rgba8, samples, orientation);
        });
    }

    private static Tiff Open(byte[] data, TiffMessages.Collector errors)
    {
        var stream = new MemoryStream(data, writable: false);
        TiffMessages.EnsureInstalled();
        return Tiff.ClientOpen("image", "r", stream, new TiffStream())
            ?? throw new ImageDecodeException($"The TIFF header is corrupt: {errors.First ?? "libtiff could not open it"}.");
    }

    private static (int Width, int Height, int Orientation) ReadHeader(Tiff tiff)
    {
        FieldValue[]? w = tiff.GetField(TiffTag.IMAGEWIDTH);
        FieldValue[]? h = tiff.GetField(TiffTag.IMAGELENGTH);
        if (w is null || h is null)
        {
            throw new ImageDecodeException("The TIFF header has no ImageWidth or ImageLength.");
        }

        FieldValue[]? o = tiff.GetField(TiffTag.ORIENTATION);
        return (w[0].ToInt(), h[0].ToInt(), o is null ? 1 : o[0].ToInt());
    }

    /// <summary>
    /// Refuses strips or tiles whose declared byte ranges leave the file, so that forged counts cannot make libtiff
    /// allocate more than the file holds.
    /// </summary>
    private static void CheckStripsInsideFile(Tiff tiff, long fileLength)
    {
        bool tiled = tiff.IsTiled();
        FieldValue[]? offsets = tiff.GetField(tiled ? TiffTag.TILEOFFSETS : TiffTag.STRIPOFFSETS);
        FieldValue[]? counts = tiff.GetField(tiled ? TiffTag.TILEBYTECOUNTS : TiffTag.STRIPBYTECOUNTS);
        if (offsets is null || counts is null)
        {
            throw new ImageDecodeException("The TIFF has no strip or tile offsets.");
        }

        long[] offs = offsets[0].TolongArray() ?? [];
        long[] sizes = counts[0].TolongArray() ?? [];
        if (offs.Length == 0 || offs.Length != sizes.Length)
        {
            throw new ImageDecodeException($"The TIFF declares {offs.Length} strip offsets and {sizes.Length} byte counts.");
        }

        for (int i = 0; i < offs.Length; i++)
        {
            if (offs[i] < 0 || sizes[i] < 0 || offs[i] > fileLength || sizes[i] > fileLength - offs[i])
            {
                throw new ImageDecodeException($"The TIFF's strip {i} ({sizes[i]} bytes at {offs[i]}) lies outside the {fileLength}-byte file (truncated or forged).");
            }
        }
    }

    private static T Guard<T>(TiffMessages.Collector errors, Func<T> body)
    {
        try
        {
            return body();
        }
        catch (ImageDecodeException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // libtiff is a port of C code: corrupt tags surface as arbitrary runtime exceptions (division by zero,
            // index out of range, ...). They are all bad input here.
            throw new ImageDecodeException($"The TIFF image is corrupt: {errors.First ?? ex.Message}", ex);
        }
    }

}
