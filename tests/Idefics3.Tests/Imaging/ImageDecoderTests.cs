using BitMiracle.LibTiff.Classic;
using Idefics3.Imaging;
using Idefics3.Tests;

namespace Idefics3.Tests.Imaging;

public class ImageDecoderTests
{
    private static readonly byte[] TwoColours = [200, 30, 30, 20, 40, 220, 255, 0, 0, 0, 0, 255];

    public static TheoryData<string> Formats() => ["png", "bmp", "gif", "tiff", "tiff-lzw", "webp-lossless", "webp-lossy", "jpeg", "ico"];

    private static byte[] Encode(string format, int width, int height)
    {
        byte[] rgba = TestImages.Rgba(width, height, (x, _) => x < width / 2 ? ((byte)200, (byte)30, (byte)30, (byte)255) : ((byte)20, (byte)40, (byte)220, (byte)255));
        return format switch
        {
            "png" => TestImages.Png(rgba, width, height),
            "bmp" => TestImages.Bmp(rgba, width, height),
            "gif" => TestImages.Gif(width, height, TwoColours, TestImages.Indices(rgba, TwoColours)),
            "tiff" => TestImages.Tiff(rgba, width, height),
            "tiff-lzw" => TestImages.Tiff(rgba, width, height, compression: Compression.LZW),
            "webp-lossless" => TestImages.WebPLossless(rgba, width, height),
            "webp-lossy" => TestImages.WebPLossy(rgba, width, height),
            "ico" => TestImages.Ico(TestImages.Png(rgba, width, height)),
            _ => TestImages.Jpeg(rgba, width, height),
        };
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Every_supported_format_decodes_to_rgb(string format)
    {
        byte[] data = Encode(format, 40, 30);

        var rgb = ImageDecoder.Decode(data);

        Assert.Equal((40, 30), (rgb.Width, rgb.Height));
        Assert.Equal((40, 30), ImageDecoder.Identify(data));
        int left = ((10 * 40) + 5) * 3;
        int right = ((10 * 40) + 35) * 3;
        int tolerance = format is "jpeg" or "webp-lossy" ? 12 : 0;
        Assert.InRange(rgb.Pixels[left], 200 - tolerance, 200 + tolerance);
        Assert.InRange(rgb.Pixels[left + 1], 30 - tolerance, 30 + tolerance);
        Assert.InRange(rgb.Pixels[right + 2], 220 - tolerance, 220 + tolerance);
        Assert.InRange(rgb.Pixels[right], 20 - tolerance, 20 + tolerance);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Tiff_orientation_tag_is_applied_like_the_jpeg_goldens(int orientation)
    {
        // The JPEG goldens pin Pillow's exif_transpose for all eight values; a TIFF carries the same tag in its IFD.
        byte[] rgba = TestImages.Rgba(5, 3, (x, y) => ((byte)(x * 50), (byte)(y * 100), 7, 255));
        byte[] plain = TestImages.Tiff(rgba, 5, 3);
        byte[] tagged = TestImages.Tiff(rgba, 5, 3, orientation: orientation);
        var stored = ImageDecoder.Decode(plain);

        var shown = ImageDecoder.Decode(tagged);

        bool swap = orientation >= 5;
        Assert.Equal(swap ? (3, 5) : (5, 3), (shown.Width, shown.Height));
        Assert.Equal((shown.Width, shown.Height), ImageDecoder.Identify(tagged));
        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 5; x++)
            {
                var (dx, dy) = ExifOrientation.Map(orientation, x, y, 5, 3);
                Assert.Equal(stored.Pixels[((y * 5) + x) * 3], shown.Pixels[((dy * shown.Width) + dx) * 3]);
                Assert.Equal(stored.Pixels[(((y * 5) + x) * 3) + 1], shown.Pixels[(((dy * shown.Width) + dx) * 3) + 1]);
            }
        }
    }

    [Fact]
    public void Orientation_can_be_left_as_stored()
    {
        byte[] jpeg = File.ReadAllBytes(TestFixtures.PathOf("images", "jpeg-decode", "exif_orientation_6.jpg"));

        Assert.Equal((64, 40), ImageDecoder.Identify(jpeg, new ImageDecodeOptions { ApplyExifOrientation = false }));
        var rgb = ImageDecoder.Decode(jpeg, new ImageDecodeOptions { ApplyExifOrientation = false });
        Assert.Equal((64, 40), (rgb.Width, rgb.Height));
    }

    [Fact]
    public void Transparent_pixels_composite_on_white_or_keep_their_colour()
    {
        byte[] rgba = [0, 0, 0, 0, 100, 50, 0, 128];
        var png = TestImages.Png(rgba, 2, 1);

        var white = ImageDecoder.Decode(png);
        var dropped = ImageDecoder.Decode(png, new ImageDecodeOptions { AlphaHandling = AlphaHandling.DropAlpha });

        Assert.Equal(new byte[] { 255, 255, 255 }, white.Pixels[..3]);
        Assert.Equal(new byte[] { 0, 0, 0, 100, 50, 0 }, dropped.Pixels);
        Assert.Equal(RgbConverter.CompositeOnWhite(100, 128), white.Pixels[3]);
        Assert.InRange(white.Pixels[3], 176, 178);
    }

    [Fact]
    public void Webp_alpha_keeps_its_colour_when_dropped_and_composites_on_white()
    {
        byte[] rgba = TestImages.Rgba(4, 4, (x, _) => x < 2 ? ((byte)10, (byte)200, (byte)30, (byte)255) : ((byte)90, (byte)60, (byte)30, (byte)64));
        var webp = TestImages.WebPLossless(rgba, 4, 4);

        var dropped = ImageDecoder.Decode(webp, new ImageDecodeOptions { AlphaHandling = AlphaHandling.DropAlpha });
        var white = ImageDecoder.Decode(webp);

        Assert.Equal(new byte[] { 10, 200, 30, 90, 60, 30 }, dropped.Pixels.AsSpan(3, 6).ToArray());
        Assert.Equal(new[] { RgbConverter.CompositeOnWhite(90, 64), RgbConverter.CompositeOnWhite(60, 64), RgbConverter.CompositeOnWhite(30, 64) }, white.Pixels.AsSpan(6, 3).ToArray());
    }

    [Fact]
    public void Animated_gif_decodes_its_first_frame()
    {
        var data = TestImages.Gif(8, 8, TwoColours, Enumerable.Repeat((byte)2, 64).ToArray(), Enumerable.Repeat((byte)3, 64).ToArray());

        var rgb = ImageDecoder.Decode(data);

        Assert.Equal(Enumerable.Range(0, 64).SelectMany(_ => new byte[] { 255, 0, 0 }), rgb.Pixels);
    }

    [Fact]
    public void Animated_webp_decodes_its_first_frame()
    {
        byte[] red = TestImages.Rgba(6, 4, (_, _) => (255, 0, 0, 255));
        byte[] blue = TestImages.Rgba(6, 4, (_, _) => (0, 0, 255, 255));
        var data = TestImages.AnimatedWebP(6, 4, red, blue);

        var rgb = ImageDecoder.Decode(data);

        Assert.Equal((6, 4), (rgb.Width, rgb.Height));
        Assert.Equal(Enumerable.Range(0, 24).SelectMany(_ => new byte[] { 255, 0, 0 }), rgb.Pixels);
    }

    [Fact]
    public void Ico_decodes_its_largest_entry()
    {
        byte[] small = TestImages.Png(TestImages.Rgba(16, 16, (_, _) => (0, 255, 0, 255)), 16, 16);
        byte[] large = TestImages.Png(TestImages.Rgba(32, 32, (_, _) => (0, 0, 255, 255)), 32, 32);

        var rgb = ImageDecoder.Decode(TestImages.Ico(small, large));

        Assert.Equal((32, 32), (rgb.Width, rgb.Height));
        Assert.Equal(new byte[] { 0, 0, 255 }, rgb.Pixels[..3]);
    }

    [Fact]
    public void Lossless_formats_round_trip_exactly()
    {
        byte[] rgba = TestImages.Photo(23, 17);
        byte[] expected = new byte[23 * 17 * 3];
        for (int i = 0; i < 23 * 17; i++)
        {
            (expected[i * 3], expected[(i * 3) + 1], expected[(i * 3) + 2]) = (rgba[i * 4], rgba[(i * 4) + 1], rgba[(i * 4) + 2]);
        }

        foreach (byte[] data in new[] { TestImages.Png(rgba, 23, 17), TestImages.Bmp(rgba, 23, 17), TestImages.Tiff(rgba, 23, 17, compression: Compression.DEFLATE), TestImages.WebPLossless(rgba, 23, 17) })
        {
            Assert.Equal(expected, ImageDecoder.Decode(data).Pixels);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sixteen_bit_rgba_png_keeps_the_high_byte_as_pillow(bool interlaced)
    {
        // 0x12FF would round to 0x13 when scaled to 8 bits; Pillow's "RGBA;16B" unpacking keeps the high byte (0x12).
        ushort[] samples = [0x12FF, 0x8080, 0xFFFF, 0xFFFF, 0x0001, 0xFE7F, 0x7FFF, 0x80FF, 0xABCD, 0x00FF, 0x5A5A, 0x0000];
        byte[] png = CraftedPng.Build16(3, 1, colorType: 6, samples, interlaced);

        var dropped = ImageDecoder.Decode(png, new ImageDecodeOptions { AlphaHandling = AlphaHandling.DropAlpha });
        var white = ImageDecoder.Decode(png);

        Assert.Equal(new byte[] { 0x12, 0x80, 0xFF, 0x00, 0xFE, 0x7F, 0xAB, 0x00, 0x5A }, dropped.Pixels);
        Assert.Equal(new byte[] { 0x12, 0x80, 0xFF }, white.Pixels[..3]);
        Assert.Equal(RgbConverter.CompositeOnWhite(0x00, 0x80), white.Pixels[3]);
        Assert.Equal(new byte[] { 255, 255, 255 }, white.Pixels[6..]);
    }

    [Fact]
    public void Sixteen_bit_gray_png_clips_like_pillow_mode_i()
    {
        byte[] png = CraftedPng.Build16(4, 1, colorType: 0, [0x0000, 0x00C8, 0x0100, 0xFFFF], interlaced: false);

        var rgb = ImageDecoder.Decode(png);

        Assert.Equal(new byte[] { 0, 0, 0, 200, 200, 200, 255, 255, 255, 255, 255, 255 }, rgb.Pixels);
    }

    [Fact]
    public void Grayscale_png_expands_to_three_equal_channels()
    {
        var rgb = ImageDecoder.Decode(File.ReadAllBytes(TestFixtures.PathOf("images", "real", "img09_90x60_gray.png")));
        for (int i = 0; i < rgb.Pixels.Length; i += 3)
        {
            Assert.Equal(rgb.Pixels[i], rgb.Pixels[i + 1]);
            Assert.Equal(rgb.Pixels[i], rgb.Pixels[i + 2]);
        }
    }

    [Fact]
    public void Truncated_file_is_a_decode_error()
    {
        var png = File.ReadAllBytes(TestFixtures.PathOf("images", "real", "img04_500x300_gradient_rgb.png"));
        Assert.ThrowsAny<ImageDecodeException>(() => ImageDecoder.Decode(png.AsSpan(0, png.Length / 2)));
        Assert.ThrowsAny<ImageDecodeException>(() => ImageDecoder.Decode(png.AsSpan(0, 20)));
    }

    public static TheoryData<string, int> TruncatedCases()
    {
        var data = new TheoryData<string, int>();
        foreach (string format in new[] { "png", "jpeg", "jpeg-progressive", "webp-lossy", "webp-lossless", "gif", "bmp", "tiff" })
        {
            foreach (int percent in new[] { 50, 80, 90 })
            {
                data.Add(format, percent);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TruncatedCases))]
    public void Truncated_files_of_every_format_are_errors_as_in_pillow(string format, int percentKept)
    {
        byte[] rgba = TestImages.Photo(120, 90);
        byte[] data = format switch
        {
            "png" => TestImages.Png(rgba, 120, 90),
            "jpeg" => TestImages.Jpeg(rgba, 120, 90),
            "jpeg-progressive" => File.ReadAllBytes(TestFixtures.PathOf("images", "jpeg-decode", "q90_progressive.jpg")),
            "webp-lossy" => TestImages.WebPLossy(rgba, 120, 90),
            "webp-lossless" => TestImages.WebPLossless(rgba, 120, 90),
            "gif" => TestImages.Gif(120, 90, TwoColours, Enumerable.Range(0, 120 * 90).Select(i => (byte)(i % 4)).ToArray()),
            "bmp" => TestImages.Bmp(rgba, 120, 90),
            _ => TestImages.Tiff(rgba, 120, 90),
        };

        Assert.ThrowsAny<ImageDecodeException>(() => ImageDecoder.Decode(data.AsSpan(0, data.Length * percentKept / 100)));
    }

    [Fact]
    public void Unknown_bytes_are_an_unsupported_format()
    {
        Assert.Throws<UnsupportedImageFormatException>(() => ImageDecoder.Decode("this is not an image at all"u8));
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void Decompression_bomb_is_refused_from_the_header()
    {
        var bomb = CraftedPng.Build(60_000, 60_000, [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        var ex = Assert.Throws<ImageTooLargeException>(() => ImageDecoder.Decode(bomb));
        Assert.Contains("60000x60000", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ImageTooLargeException>(() => ImageDecoder.Decode(File.ReadAllBytes(TestFixtures.PathOf("images", "real", "img04_500x300_gradient_rgb.png")), new ImageDecodeOptions { MaxPixels = 1000 }));
    }

    [Fact]
    public void Zero_sized_image_is_a_decode_error()
    {
        Assert.ThrowsAny<ImageDecodeException>(() => ImageDecoder.Decode(CraftedPng.Build(0, 10, [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])));
    }

    [Fact]
    public void Corrupt_pixel_data_with_a_valid_header_is_a_decode_error()
    {
        Assert.ThrowsAny<ImageDecodeException>(() => ImageDecoder.Decode(CraftedPng.Build(50, 50, [1, 2, 3, 4, 5])));
    }
}
