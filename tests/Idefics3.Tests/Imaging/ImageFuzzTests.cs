using System.Diagnostics;
using BitMiracle.LibTiff.Classic;
using Idefics3.Imaging;
using Xunit.Abstractions;

namespace Idefics3.Tests.Imaging;

/// <summary>
/// Deterministic fuzzing of the image decoder: seed files of every supported format are mutated (bit flips,
/// truncation, forged lengths, forged dimensions, random tails after the magic number) and each case must either
/// decode or fail with <see cref="ImageDecodeException"/> (or a subclass), end within a hang bound, and stay within a
/// memory bound relative to the pixels its header declares (managed allocations exactly; resident memory, which
/// includes native buffers, sampled every millisecond). The CI run has about 240 cases; set
/// <c>IDEFICS3_IMAGE_FUZZ_CASES</c> (cases per seed and mutator, default 3) for a larger local campaign and
/// <c>IDEFICS3_IMAGE_FUZZ_SEED</c> to draw a different set. See docs/processor.md.
/// </summary>
public class ImageFuzzTests(ITestOutputHelper output)
{
    /// <summary>The pixel limit for fuzz cases: forged dimensions above it must be refused from the header.</summary>
    private const long MaxPixels = 4_000_000;

    /// <summary>A case that runs longer than this is reported as a hang (decoding the seeds takes milliseconds).</summary>
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(20);

    /// <summary>Resident memory also holds the GC's heap growth and native allocator caches: this much slack on top of the managed bound.</summary>
    private const long ResidentSlack = 64L << 20;

    private static readonly string[] Mutators = ["bitflip", "truncate", "forge-length", "forge-dimensions", "random-tail"];

    [Fact]
    public void Mutated_images_decode_or_fail_with_a_typed_error_within_time_and_memory_bounds()
    {
        int perSeed = int.TryParse(Environment.GetEnvironmentVariable("IDEFICS3_IMAGE_FUZZ_CASES"), out int n) && n > 0 ? n : 3;
        int baseSeed = int.TryParse(Environment.GetEnvironmentVariable("IDEFICS3_IMAGE_FUZZ_SEED"), out int s) ? s : 12;
        var options = new ImageDecodeOptions { MaxPixels = MaxPixels };
        var failures = new List<string>();
        var stats = new Dictionary<string, (int Cases, int Decoded, int Typed, double MaxMs, long MaxManaged, long MaxResident)>();
        var seeds = Seeds();
        foreach (var (format, seed) in seeds)
        {
            // Every seed decodes before mutation.
            ImageDecoder.Decode(seed, options);
            for (int m = 0; m < Mutators.Length; m++)
            {
                for (int k = 0; k < perSeed; k++)
                {
                    var random = new Random(HashCode.Combine(baseSeed, format, m, k) & 0x7FFFFFFF);
                    byte[] mutated = Mutate(Mutators[m], format, seed, random);
                    var (outcome, ms, managed, resident, error) = RunCase(mutated, options);
                    string key = $"{format}/{Mutators[m]}";
                    var st = stats.GetValueOrDefault(key);
                    stats[key] = (st.Cases + 1, st.Decoded + (outcome == "decoded" ? 1 : 0), st.Typed + (outcome == "typed" ? 1 : 0), Math.Max(st.MaxMs, ms), Math.Max(st.MaxManaged, managed), Math.Max(st.MaxResident, resident));
                    long bound = ManagedBound(mutated);
                    if (outcome is not ("decoded" or "typed"))
                    {
                        failures.Add($"{key} case {k}: {outcome}: {error}");
                    }
                    else if (managed > bound)
                    {
                        failures.Add($"{key} case {k}: allocated {managed:N0} managed bytes, over the bound of {bound:N0}");
                    }
                    else if (resident > bound + ResidentSlack)
                    {
                        failures.Add($"{key} case {k}: resident memory grew by {resident:N0} bytes (managed + native), over the bound of {bound + ResidentSlack:N0}");
                    }
                }
            }
        }

        int total = stats.Values.Sum(v => v.Cases);
        output.WriteLine($"image fuzz: {seeds.Count} seeds, {total} cases, {stats.Values.Sum(v => v.Decoded)} decoded, {stats.Values.Sum(v => v.Typed)} typed errors, {failures.Count} failures");
        foreach (var (key, v) in stats.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"  {key,-32} cases {v.Cases,4}  decoded {v.Decoded,4}  typed {v.Typed,4}  max {v.MaxMs,7:F1} ms  max managed {v.MaxManaged / 1024.0 / 1024.0,7:F1} MiB  max resident growth {v.MaxResident / 1024.0 / 1024.0,7:F1} MiB");
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    /// <summary>
    /// The managed allocation allowed for one case (decode and identify): a small multiple of the largest picture the
    /// header may declare (the pixel limit) is not the measure, the file is: 16 bytes per declared pixel of the mutated
    /// header (RGBA or 16-bit buffer plus the RGB result, each at most 8 and 3 bytes) plus four copies of the input and
    /// 4 MiB of fixed overhead.
    /// </summary>
    private static long ManagedBound(byte[] data)
    {
        long declared;
        try
        {
            var (w, h) = ImageDecoder.Identify(data, new ImageDecodeOptions { MaxPixels = MaxPixels, ApplyExifOrientation = false });
            declared = (long)w * h;
        }
        catch (ImageDecodeException)
        {
            declared = 0;
        }

        return (declared * 16) + (data.Length * 4L) + (4L << 20);
    }

    private static (string Outcome, double Ms, long Managed, long Resident, string? Error) RunCase(byte[] data, ImageDecodeOptions options)
    {
        // Resident memory (managed + native, e.g. Skia's and libtiff's buffers) is sampled every millisecond while the case runs.
        long baseline = Environment.WorkingSet;
        long peak = baseline;
        using var done = new ManualResetEventSlim();
        var sampler = new Thread(() =>
        {
            do
            {
                peak = Math.Max(peak, Environment.WorkingSet);
            }
            while (!done.Wait(1));
        });
        sampler.Start();
        string outcome = "hang";
        string? error = null;
        long managed = 0;
        var sw = Stopwatch.StartNew();
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                ImageDecoder.Identify(data, options);
                ImageDecoder.Decode(data, options);
                outcome = "decoded";
            }
            catch (ImageDecodeException)
            {
                outcome = "typed";
            }
#pragma warning disable CA1031 // The fuzz harness must see every escaping exception to report it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                outcome = "untyped";
                error = $"{ex.GetType().Name}: {ex.Message}";
            }

            managed = GC.GetAllocatedBytesForCurrentThread() - before;
        }, 16 << 20);
        thread.Start();
        bool ended = thread.Join(HangBound);
        done.Set();
        sampler.Join();
        return (ended ? outcome : "hang", sw.Elapsed.TotalMilliseconds, managed, peak - baseline, ended ? error : $"no result after {HangBound.TotalSeconds} s");
    }

    private static byte[] Mutate(string mutator, string format, byte[] seed, Random random)
    {
        byte[] data = (byte[])seed.Clone();
        switch (mutator)
        {
            case "bitflip":
                for (int i = random.Next(1, 9); i > 0; i--)
                {
                    int at = random.Next(data.Length);
                    data[at] ^= (byte)(1 << random.Next(8));
                }

                return data;
            case "truncate":
                return data[..random.Next(1, data.Length)];
            case "forge-length":
                {
                    // A length or count field near a chunk boundary made huge, zero or negative.
                    uint[] values = [0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x40000000, (uint)data.Length * 16, 0x00010000];
                    int at = random.Next(Math.Min(data.Length - 4, 96));
                    uint v = values[random.Next(values.Length)];
                    data[at] = (byte)(v >> 24);
                    data[at + 1] = (byte)(v >> 16);
                    data[at + 2] = (byte)(v >> 8);
                    data[at + 3] = (byte)v;
                    return data;
                }

            case "forge-dimensions":
                ForgeDimensions(format, data, random);
                return data;
            default:
                {
                    int keep = Math.Min(data.Length, random.Next(4, 24));
                    var tail = new byte[random.Next(0, 4096)];
                    random.NextBytes(tail);
                    return [.. data.AsSpan(0, keep), .. tail];
                }
        }
    }

    /// <summary>Overwrites the header's width and height fields with large, zero, or mismatched values.</summary>
    private static void ForgeDimensions(string format, byte[] data, Random random)
    {
        int[] sizes = [0, 1, 3, 9_400, 65_535, 60_000, 2_000, 30_000];
        int w = sizes[random.Next(sizes.Length)];
        int h = sizes[random.Next(sizes.Length)];
        switch (format)
        {
            case var f when f.StartsWith("png", StringComparison.Ordinal):
                WriteBe(data, 16, w, 4);
                WriteBe(data, 20, h, 4);
                break;
            case var f when f.StartsWith("jpeg", StringComparison.Ordinal):
                for (int i = 2; i + 9 < data.Length; i++)
                {
                    if (data[i] == 0xFF && data[i + 1] is 0xC0 or 0xC1 or 0xC2)
                    {
                        WriteBe(data, i + 5, h, 2);
                        WriteBe(data, i + 7, w, 2);
                        break;
                    }
                }

                break;
            case "gif":
                WriteLe(data, 6, w, 2);
                WriteLe(data, 8, h, 2);
                break;
            case "bmp":
                WriteLe(data, 18, w, 4);
                WriteLe(data, 22, random.Next(2) == 0 ? h : -h, 4);
                break;
            case "ico":
                data[6] = (byte)w;
                data[7] = (byte)h;
                WriteBe(data, 6 + 16 + 16, w, 4);
                WriteBe(data, 6 + 16 + 20, h, 4);
                break;
            case var f when f.StartsWith("webp", StringComparison.Ordinal):
                // VP8X canvas (animated) or the VP8/VP8L frame header: forge the first 3-byte size pair after byte 20.
                WriteLe(data, 24, w - 1, 3);
                WriteLe(data, 27, h - 1, 3);
                break;
            default:
                {
                    // TIFF: find ImageWidth (256) and ImageLength (257) entries in the first IFD.
                    int ifd = BitConverter.ToInt32(data, 4);
                    if (ifd <= 0 || ifd + 2 > data.Length)
                    {
                        break;
                    }

                    int count = BitConverter.ToUInt16(data, ifd);
                    for (int e = 0; e < count && ifd + 2 + (e * 12) + 12 <= data.Length; e++)
                    {
                        int at = ifd + 2 + (e * 12);
                        int tag = BitConverter.ToUInt16(data, at);
                        if (tag is 256 or 257)
                        {
                            WriteLe(data, at + 2, 4, 2); // LONG
                            WriteLe(data, at + 8, tag == 256 ? w : h, 4);
                        }
                    }

                    break;
                }
        }
    }

    private static void WriteBe(byte[] data, int at, int value, int bytes)
    {
        for (int i = 0; i < bytes && at + i < data.Length; i++)
        {
            data[at + i] = (byte)(value >> (8 * (bytes - 1 - i)));
        }
    }

    private static void WriteLe(byte[] data, int at, int value, int bytes)
    {
        for (int i = 0; i < bytes && at + i < data.Length; i++)
        {
            data[at + i] = (byte)(value >> (8 * i));
        }
    }

    private static List<(string Format, byte[] Data)> Seeds()
    {
        const int W = 48;
        const int H = 36;
        byte[] photo = TestImages.Photo(W, H);
        byte[] alpha = TestImages.Rgba(W, H, (x, y) => ((byte)(x * 5), (byte)(y * 7), 90, (byte)((x + y) * 3)));
        byte[] palette = [0, 0, 0, 255, 255, 255, 200, 30, 30, 20, 40, 220];
        string golden = TestFixtures.PathOf("images", "jpeg-decode");
        return
        [
            ("png", TestImages.Png(photo, W, H)),
            ("png-alpha", TestImages.Png(alpha, W, H)),
            ("png-gray16", File.ReadAllBytes(Path.Combine(golden, "gray16.png"))),
            ("png-palette", File.ReadAllBytes(Path.Combine(golden, "palette_transparent.png"))),
            ("jpeg", TestImages.Jpeg(photo, W, H, 85)),
            ("jpeg-progressive", File.ReadAllBytes(Path.Combine(golden, "q90_progressive.jpg"))),
            ("jpeg-cmyk", File.ReadAllBytes(Path.Combine(golden, "cmyk_q85.jpg"))),
            ("jpeg-exif", File.ReadAllBytes(Path.Combine(golden, "exif_orientation_6.jpg"))),
            ("webp-lossy", TestImages.WebPLossy(photo, W, H)),
            ("webp-lossless", TestImages.WebPLossless(alpha, W, H)),
            ("webp-animated", TestImages.AnimatedWebP(W, H, photo, alpha)),
            ("gif", TestImages.Gif(W, H, palette, Enumerable.Range(0, W * H).Select(i => (byte)(i % 4)).ToArray(), Enumerable.Range(0, W * H).Select(i => (byte)(i % 3)).ToArray())),
            ("bmp", TestImages.Bmp(photo, W, H)),
            ("ico", TestImages.Ico(TestImages.Png(alpha, W, H))),
            ("tiff", TestImages.Tiff(photo, W, H)),
            ("tiff-lzw-alpha", TestImages.Tiff(alpha, W, H, alpha: true, compression: Compression.LZW)),
        ];
    }
}
