using Idefics3.Imaging;
using Idefics3.Tests;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace Idefics3.Tests.Imaging;

public class ImageDecoderTests
{
    private static Image<Rgb24> Pattern(int width, int height)
    {
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(a =>
        {
            for (int y = 0; y < a.Height; y++)
            {
                var row = a.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    row[x] = x < width / 2 ? new Rgb24(200, 30, 30) : new Rgb24(20, 40, 220);
                }
            }
        });
        return image;
    }

    private static byte[] Encode(Image image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var ms = new MemoryStream();
        image.Save(ms, encoder);
        return ms.ToArray();
    }

    public static TheoryData<string> Formats() => ["png", "bmp", "gif", "tiff", "webp-lossless", "jpeg"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Every_supported_format_decodes_to_rgb(string format)
    {
        using var image = Pattern(40, 30);
        byte[] data = format switch
        {
            "png" => Encode(image, new PngEncoder()),
            "bmp" => Encode(image, new BmpEncoder()),
            "gif" => Encode(image, new GifEncoder()),
            "tiff" => Encode(image, new TiffEncoder()),
            "webp-lossless" => Encode(image, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }),
            _ => Encode(image, new JpegEncoder { Quality = 95 }),
        };

        var rgb = ImageDecoder.Decode(data);

        Assert.Equal((40, 30), (rgb.Width, rgb.Height));
        int left = 5 * 3;
        int right = ((10 * 40) + 35) * 3;
        int tolerance = format == "jpeg" ? 12 : format == "gif" ? 8 : 0;
        Assert.InRange(rgb.Pixels[left], 200 - tolerance, 200 + tolerance);
        Assert.InRange(rgb.Pixels[right + 2], 220 - tolerance, 220 + tolerance);
    }

    [Fact]
    public void Exif_orientation_is_applied_in_decode_and_identify()
    {
        using var image = Pattern(40, 30);
        image.Metadata.ExifProfile = new ExifProfile();
        image.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        var jpeg = Encode(image, new JpegEncoder());

        Assert.Equal((30, 40), ImageDecoder.Identify(jpeg));
        var rgb = ImageDecoder.Decode(jpeg);
        Assert.Equal((30, 40), (rgb.Width, rgb.Height));
    }

    [Fact]
    public void Transparent_pixels_composite_on_white_or_keep_their_colour()
    {
        using var image = new Image<Rgba32>(2, 1);
        image[0, 0] = new Rgba32(0, 0, 0, 0);
        image[1, 0] = new Rgba32(100, 50, 0, 128);
        var png = Encode(image, new PngEncoder());

        var white = ImageDecoder.Decode(png);
        var dropped = ImageDecoder.Decode(png, new ImageDecodeOptions { AlphaHandling = AlphaHandling.DropAlpha });

        Assert.Equal(new byte[] { 255, 255, 255 }, white.Pixels[..3]);
        Assert.Equal(new byte[] { 0, 0, 0, 100, 50, 0 }, dropped.Pixels);
        Assert.InRange(white.Pixels[3], 176, 178);
    }

    [Fact]
    public void Animated_gif_decodes_its_first_frame()
    {
        using var gif = new Image<Rgba32>(8, 8, new Rgba32(255, 0, 0, 255));
        using var second = new Image<Rgba32>(8, 8, new Rgba32(0, 0, 255, 255));
        gif.Frames.AddFrame(second.Frames.RootFrame);
        var data = Encode(gif, new GifEncoder());

        var rgb = ImageDecoder.Decode(data);

        Assert.Equal(new byte[] { 255, 0, 0 }, rgb.Pixels[..3]);
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
