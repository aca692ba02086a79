using System.Security.Cryptography;
using System.Text.Json;
using Idefics3.Imaging;
using Idefics3.Tests;

namespace Idefics3.Tests.Imaging;

public class ImageProcessorGoldenTests
{
    private static readonly ImageProcessingSettings _real = new() { LongestEdge = 1456, TileSize = 364 };
    private static readonly ImageProcessingSettings _tiny = new() { LongestEdge = 224, TileSize = 56 };

    public static TheoryData<string> RealCases()
    {
        using var doc = TestFixtures.Json("imgproc_real_golden.json");
        var data = new TheoryData<string>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateObject())
        {
            string image = c.Name.Split('/')[0];
            string variant = c.Name.Split('/')[1];
            if (variant != "raw" && File.Exists(TestFixtures.PathOf("images", "real", image + ".png")))
            {
                data.Add(c.Name);
            }
        }

        return data;
    }

    public static TheoryData<string> TinyGoldenCases()
    {
        using var doc = TestFixtures.Json("imgproc_golden.json");
        var data = new TheoryData<string>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateObject())
        {
            data.Add(c.Name);
        }

        return data;
    }

    internal static string Sha(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    internal static string ShaOfFrame(float[] values, int offset, int count)
        => Sha(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan(offset, count)));

    [Theory]
    [MemberData(nameof(RealCases))]
    public void Real_defaults_frames_are_byte_identical_to_hugging_face(string name)
    {
        using var doc = TestFixtures.Json("imgproc_real_golden.json");
        var c = doc.RootElement.GetProperty("cases").GetProperty(name);
        string[] parts = name.Split('/');
        var settings = _real with
        {
            DoImageSplitting = parts[2] == "split=True",
            AlphaHandling = parts[1] == "pil_convert_rgb" ? AlphaHandling.DropAlpha : AlphaHandling.CompositeOnWhite,
        };
        var result = Idefics3ImageProcessor.Process(File.ReadAllBytes(TestFixtures.PathOf("images", "real", parts[0] + ".png")), settings);

        var step1 = c.GetProperty("step1_resize_longest_edge_hw");
        Assert.Equal((step1[0].GetInt32(), step1[1].GetInt32()), (result.Layout.ResizedHeight, result.Layout.ResizedWidth));
        Assert.Equal(c.GetProperty("rows").GetInt32(), result.Rows);
        Assert.Equal(c.GetProperty("cols").GetInt32(), result.Cols);
        var frames = c.GetProperty("frames");
        Assert.Equal(frames.GetArrayLength(), result.FrameCount);
        int frameValues = 3 * 364 * 364;
        for (int f = 0; f < result.FrameCount; f++)
        {
            Assert.Equal(frames[f].GetProperty("sha256_uint8_hwc").GetString(), Sha(result.Frames[f].Pixels));
            Assert.Equal(frames[f].GetProperty("sha256_f32").GetString(), ShaOfFrame(result.PixelValues, f * frameValues, frameValues));
        }
    }

    [Theory]
    [MemberData(nameof(TinyGoldenCases))]
    public void Tiny_reference_frames_are_byte_identical_to_hugging_face(string name)
    {
        using var doc = TestFixtures.Json("imgproc_golden.json");
        var c = doc.RootElement.GetProperty("cases").GetProperty(name);
        string[] parts = name.Split('/');
        var settings = (parts[0] == "real" ? _real : _tiny) with { DoImageSplitting = parts[1] == "split=True" };
        var result = Idefics3ImageProcessor.Process(File.ReadAllBytes(TestFixtures.PathOf("images", "tiny", parts[2] + ".png")), settings);

        Assert.Equal(c.GetProperty("rows").GetInt32(), result.Rows);
        Assert.Equal(c.GetProperty("cols").GetInt32(), result.Cols);
        var shape = c.GetProperty("pixel_values_shape");
        int per = shape[2].GetInt32() * shape[3].GetInt32() * shape[4].GetInt32();
        var frames = c.GetProperty("frames");
        Assert.Equal(frames.GetArrayLength(), result.FrameCount);
        for (int f = 0; f < result.FrameCount; f++)
        {
            Assert.Equal(frames[f].GetProperty("sha256_f32").GetString(), ShaOfFrame(result.PixelValues, f * per, per));
        }

        Assert.Equal(c.GetProperty("pixel_values_sha256_f32").GetString(), ShaOfFrame(result.PixelValues, 0, result.PixelValues.Length));
    }

    [Theory]
    [InlineData("img08_120x80_rgba", "rgb_input_sha256", AlphaHandling.CompositeOnWhite)]
    [InlineData("img08_120x80_rgba", "pil_convert_rgb_input_sha256", AlphaHandling.DropAlpha)]
    [InlineData("img09_90x60_gray", "rgb_input_sha256", AlphaHandling.CompositeOnWhite)]
    [InlineData("img04_500x300_gradient_rgb", "rgb_input_sha256", AlphaHandling.CompositeOnWhite)]
    public void Decoded_rgb_input_matches_the_reference_conversion(string image, string field, AlphaHandling alpha)
    {
        using var doc = TestFixtures.Json("imgproc_real_golden.json");
        string expected = doc.RootElement.GetProperty("meta").GetProperty("images").GetProperty(image).GetProperty(field).GetString()!;
        var rgb = ImageDecoder.Decode(File.ReadAllBytes(TestFixtures.PathOf("images", "real", image + ".png")), new ImageDecodeOptions { AlphaHandling = alpha });
        Assert.Equal(expected, Sha(rgb.Pixels));
    }
}
