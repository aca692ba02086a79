using System.Security.Cryptography;
using System.Text.Json;
using Idefics3.Imaging;

namespace Idefics3.Tests.Imaging;

/// <summary>
/// Decodes the reference images (JPEG 4:2:0/4:2:2/4:4:4, progressive, optimised, gray, CMYK, odd sizes, EXIF
/// orientations 1-8; 16-bit gray, palette with transparency, gray+alpha and RGBA PNGs) and asserts byte equality with
/// Pillow 9.4's <c>exif_transpose(...).convert("RGB")</c> (alpha dropped) and with the composite over white.
/// </summary>
public class PillowDecodeGoldenTests
{
    private static readonly string Folder = TestFixtures.PathOf("images", "jpeg-decode");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Golden().EnumerateObject())
        {
            data.Add(c.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Alpha_dropped_decode_is_byte_identical_to_pillow(string file)
    {
        var golden = Golden().GetProperty(file);
        var rgb = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(Folder, file)), new ImageDecodeOptions { AlphaHandling = AlphaHandling.DropAlpha });

        AssertMatches(golden, rgb, golden.GetProperty("pillow_rgb").GetString()!, golden.GetProperty("rgb_sha256").GetString()!);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Default_decode_is_byte_identical_to_pillow_composited_on_white(string file)
    {
        var golden = Golden().GetProperty(file);
        bool hasAlpha = golden.TryGetProperty("pillow_rgb_on_white", out var onWhite);
        var rgb = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(Folder, file)));

        AssertMatches(
            golden,
            rgb,
            (hasAlpha ? onWhite : golden.GetProperty("pillow_rgb")).GetString()!,
            golden.GetProperty(hasAlpha ? "rgb_on_white_sha256" : "rgb_sha256").GetString()!);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Identify_reports_the_displayed_size(string file)
    {
        var golden = Golden().GetProperty(file);
        var expected = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(Folder, golden.GetProperty("pillow_rgb").GetString()!)));

        Assert.Equal((expected.Width, expected.Height), ImageDecoder.Identify(File.ReadAllBytes(Path.Combine(Folder, file))));
    }

    private static void AssertMatches(JsonElement golden, RgbImage rgb, string pillowPng, string sha256)
    {
        // The Pillow result is an 8-bit RGB PNG (lossless); its hash in the golden file guards that reading too.
        // Pillow writes the RGB result with a tRNS colour key when the source had transparency: read it without alpha.
        var expected = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(Folder, pillowPng)), new ImageDecodeOptions { AlphaHandling = AlphaHandling.DropAlpha });
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(expected.Pixels)));
        Assert.Equal((expected.Width, expected.Height), (rgb.Width, rgb.Height));
        int differing = 0;
        int maxDiff = 0;
        for (int i = 0; i < rgb.Pixels.Length; i++)
        {
            int d = Math.Abs(rgb.Pixels[i] - expected.Pixels[i]);
            differing += d == 0 ? 0 : 1;
            maxDiff = Math.Max(maxDiff, d);
        }

        Assert.True(differing == 0, $"{golden.GetProperty("mode")} image: {differing} of {rgb.Pixels.Length} bytes differ from Pillow (max {maxDiff}).");
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(rgb.Pixels)));
    }

    private static JsonElement Golden()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "pillow_decode_golden.json")));
        return doc.RootElement.GetProperty("cases").Clone();
    }
}
