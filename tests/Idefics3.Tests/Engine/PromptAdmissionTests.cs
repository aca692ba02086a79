using System.Buffers.Binary;
using Idefics3.Engine;
using Idefics3.Generation;
using Idefics3.Imaging;
using Idefics3.Processing;

namespace Idefics3.Tests.Engine;

/// <summary>Admission before work: the context check runs on header counts, and decoding runs under a bounded gate.</summary>
public sealed class PromptAdmissionTests
{
    private static readonly ProcessorOptions s_single = new() { DoImageSplitting = false };

    [Fact]
    public async Task Images_over_the_context_window_are_refused_from_their_headers_without_decoding_a_pixel()
    {
        using var metrics = new MetricsProbe();
        await using Idefics3Engine engine = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, MeterFactory = metrics });
        byte[] corrupt = CorruptPixelData(EngineFixture.Image("golden_A_56x56.png"));

        // The pixel data really is corrupt: a request that fits fails decoding it.
        await Assert.ThrowsAnyAsync<ImageDecodeException>(() =>
            engine.GenerateAsync(Conversation(corrupt, 1), new GenerationOptions { MaxNewTokens = 1 }, s_single));

        // Eight such images: the text alone fits with this output budget, the images do not.
        IReadOnlyList<PromptMessage> many = Conversation(corrupt, 8);
        TokenAccount account = engine.CountTokens(many, s_single);
        int budget = engine.ContextWindow - account.TextTokens - 1;
        long preparedBefore = metrics.Sum("idefics3.prompts.prepared");

        var ex = await Assert.ThrowsAsync<ContextWindowExceededException>(() =>
            engine.GenerateAsync(many, new GenerationOptions { MaxNewTokens = budget }, s_single));

        Assert.Equal(account.TotalTokens, ex.PromptTokens);
        Assert.Equal(account.ImageTokens, ex.ImageTokens);
        Assert.True(ex.ImageTokens > 1);
        Assert.Equal(1, preparedBefore);
        Assert.Equal(preparedBefore, metrics.Sum("idefics3.prompts.prepared"));
    }

    [Fact]
    public async Task Concurrent_requests_share_the_decode_gate_and_give_the_serial_result()
    {
        using var metrics = new MetricsProbe();
        await using Idefics3Engine engine = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, MaxConcurrentRequests = 1, MeterFactory = metrics });
        var options = new GenerationOptions { MaxNewTokens = 3 };
        GenerationResult serial = await engine.GenerateAsync(EngineFixture.SplitConversation(), options);

        GenerationResult[] results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Task.Run(() => engine.GenerateAsync(EngineFixture.SplitConversation(), options))));

        Assert.Equal(1, metrics.Peak("idefics3.prompts.preparing"));
        Assert.Equal(9, metrics.Sum("idefics3.prompts.prepared"));
        Assert.Equal(0, metrics.Sum("idefics3.prompts.preparing"));
        Assert.All(results, r => Assert.Equal(serial.OutputIds, r.OutputIds));
    }

    [Fact]
    public async Task The_gate_never_runs_more_decodes_at_once_than_its_limit()
    {
        using var metrics = new MetricsProbe();
        using var admission = new PromptAdmission(2, new EngineMetrics(metrics, "test"));
        int running = 0, peak = 0;
        int[] results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => admission.DecodeAsync(
            () =>
            {
                int now = Interlocked.Increment(ref running);
                InterlockedMax(ref peak, now);
                Thread.Sleep(20); // holds the slot, so callers would overlap here if the gate let them
                Interlocked.Decrement(ref running);
                return i;
            },
            CancellationToken.None)));

        Assert.Equal(Enumerable.Range(0, 12), results);
        Assert.Equal(2, peak);
        Assert.Equal(2, metrics.Peak("idefics3.prompts.preparing"));
        Assert.Equal(12, metrics.Sum("idefics3.prompts.prepared"));
    }

    [Fact]
    public async Task A_request_waiting_for_a_decode_slot_honours_cancellation_and_never_decodes()
    {
        using var metrics = new MetricsProbe();
        using var admission = new PromptAdmission(1, new EngineMetrics(metrics, "test"));
        using var entered = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        Task<int> first = admission.DecodeAsync(
            () =>
            {
                entered.Release();
                release.Wait();
                return 1;
            },
            CancellationToken.None);
        await entered.WaitAsync();

        using var cts = new CancellationTokenSource();
        bool secondRan = false;
        Task<int> second = admission.DecodeAsync(() => { secondRan = true; return 2; }, cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);

        release.Set();
        Assert.Equal(1, await first);
        Assert.False(secondRan);
        Assert.Equal(1, metrics.Sum("idefics3.prompts.prepared"));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    private static List<PromptMessage> Conversation(byte[] image, int count)
    {
        var contents = new List<PromptContent>();
        for (int i = 0; i < count; i++)
        {
            contents.Add(new PromptImage(image, "image/png"));
        }

        contents.Add(new PromptText("Describe these images."));
        return [PromptMessage.Create("user", [.. contents])];
    }

    /// <summary>Keeps the PNG signature and IHDR (so the size is readable) and overwrites the first IDAT's data.</summary>
    private static byte[] CorruptPixelData(byte[] png)
    {
        byte[] copy = (byte[])png.Clone();
        int offset = 8;
        while (offset + 8 <= copy.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(copy.AsSpan(offset));
            string type = System.Text.Encoding.ASCII.GetString(copy, offset + 4, 4);
            if (type == "IDAT")
            {
                copy.AsSpan(offset + 8, length).Fill(0xA5);
                return copy;
            }

            offset += 12 + length;
        }

        throw new InvalidOperationException("No IDAT chunk.");
    }
}
