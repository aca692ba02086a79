using System.Diagnostics;
using System.IO.Compression;
using Idefics3.Runtime;
using Idefics3.Tests.Engine;
using Idefics3.Tests.Imaging;
using Microsoft.Extensions.AI;
using Xunit.Abstractions;

namespace Idefics3.Tests.Soak;

/// <summary>
/// The soak: many chat requests with images through one client on the tiny model, with caches small enough that they
/// both hit and evict; resident memory is sampled every 50 requests and must stay flat after warm-up. Local only (not
/// in CI): it runs when <c>IDEFICS3_SOAK</c> is set to the request count (for example 1000), and prints the curve.
/// See docs/errors-and-limits.md.
/// </summary>
public sealed class SoakTests
{
    private readonly ITestOutputHelper _output;

    public SoakTests(ITestOutputHelper output) => _output = output;

    [SoakFact]
    public async Task Requests_with_images_through_one_client_keep_memory_flat()
    {
        int requests = int.Parse(Environment.GetEnvironmentVariable("IDEFICS3_SOAK")!, System.Globalization.CultureInfo.InvariantCulture);
        using Idefics3Engine engine = await Idefics3Engine.LoadAsync(EngineFixture.ModelDirectory, new Idefics3EngineOptions
        {
            DType = ModelDType.Float32,
            VisionCacheBytes = 2L * 1024 * 1024, // about 12 images' features: 40 distinct images hit and evict
            PrefixCacheBytes = 8L * 1024 * 1024,
        });
        using var client = new Idefics3ChatClient(engine);
        byte[][] images = Enumerable.Range(0, 40).Select(seed => Png(40 + (seed % 5 * 16), 36 + (seed % 3 * 20), seed)).ToArray();
        string[] questions = ["What is it?", "Describe the image.", "Which colour dominates?", "Count the shapes.", "Is it dark?"];
        var rss = new List<(int Request, long RssMb, long ManagedMb)>();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i <= requests; i++)
        {
            if (i % 50 == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                long now = (ProcStatus.ReadBytes("/proc/self/status", "VmRSS") ?? 0) / (1024 * 1024);
                long managed = GC.GetTotalMemory(forceFullCollection: false) / (1024 * 1024);
                rss.Add((i, now, managed));
                _output.WriteLine($"SOAK request {i,5}  rss {now,6} MB  managed {managed,5} MB  elapsed {sw.Elapsed.TotalSeconds,7:0.0} s");
            }

            if (i == requests)
            {
                break;
            }

            var message = new ChatMessage(ChatRole.User, [new DataContent(images[(i * 7) % images.Length], "image/png"), new TextContent(questions[i % questions.Length])]);
            ChatResponse response = await client.GetResponseAsync([message], new ChatOptions { Temperature = 0, MaxOutputTokens = 4 });
            Assert.NotNull(response.Text);
        }

        long afterWarmUp = rss.First(r => r.Request >= Math.Min(200, requests / 5)).RssMb;
        long peak = rss.Where(r => r.Request >= Math.Min(200, requests / 5)).Max(r => r.RssMb);
        _output.WriteLine($"SOAK {requests} requests in {sw.Elapsed.TotalSeconds:0.0} s; rss after warm-up {afterWarmUp} MB, peak after {peak} MB, end {rss[^1].RssMb} MB");
        Assert.True(peak - afterWarmUp <= 64, $"resident memory grew {peak - afterWarmUp} MB after warm-up");
    }

    /// <summary>A valid RGB PNG of the given size with a seeded pattern (distinct bytes per seed, so distinct cache keys).</summary>
    private static byte[] Png(int width, int height, int seed)
    {
        var random = new Random(seed);
        byte[] raw = new byte[height * ((width * 3) + 1)];
        for (int y = 0; y < height; y++)
        {
            int row = y * ((width * 3) + 1);
            for (int x = 0; x < width * 3; x++)
            {
                raw[row + 1 + x] = (byte)(((x / 3) * (seed + 1)) + (y * 3) + random.Next(16));
            }
        }

        using var zlib = new MemoryStream();
        using (var z = new ZLibStream(zlib, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(raw);
        }

        return CraftedPng.Build(width, height, zlib.ToArray());
    }
}

/// <summary>A fact that runs only when <c>IDEFICS3_SOAK</c> holds a request count (the soak is local, not in CI).</summary>
public sealed class SoakFactAttribute : FactAttribute
{
    public SoakFactAttribute()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("IDEFICS3_SOAK"), out int n) || n <= 0)
        {
            Skip = "Set IDEFICS3_SOAK=<requests> (for example 1000) to run the soak.";
        }
    }
}
