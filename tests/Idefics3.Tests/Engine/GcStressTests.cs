using System.Diagnostics;
using Idefics3.Generation;
using Idefics3.Processing;
using Idefics3.Tests.Runtime;

namespace Idefics3.Tests.Engine;

/// <summary>
/// The hot paths (request preparation with images, vision tower, prefill, decode, sampling with every warper, log
/// probabilities) run in a loop from two threads while a third forces garbage collections and finalizers: every result
/// must equal the serial reference and nothing may throw. A TorchSharp handle left to the finalizer on these paths
/// crashed the process under exactly this load.
/// </summary>
public sealed class GcStressTests
{
    private static readonly TimeSpan s_duration = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Requests_under_constant_garbage_collection_give_the_serial_results_and_never_fail()
    {
        // Caches off: every request decodes and tiles its image, runs the vision tower and a full prefill.
        await using Idefics3Engine engine = await EngineFixture.LoadAsync(new Idefics3EngineOptions
        {
            DType = ModelDType.Float32,
            VisionCacheBytes = 0,
            PrefixCacheBytes = 0,
            MaxConcurrentRequests = 2,
            PrefillChunkTokens = 16,
        });
        var requests = new (IReadOnlyList<PromptMessage> Conversation, GenerationOptions Options, ProcessorOptions? Processing)[]
        {
            (EngineFixture.SplitConversation(), new GenerationOptions { MaxNewTokens = 6 }, new ProcessorOptions { LongestEdge = 112 }),
            (EngineFixture.SingleImageConversation(), new GenerationOptions { MaxNewTokens = 6, Temperature = 0.8f, TopK = 40, TopP = 0.9f, MinP = 0.02f, RepetitionPenalty = 1.2f, FrequencyPenalty = 0.3f, Seed = 3, LogProbs = true, TopLogProbs = 3 }, new ProcessorOptions { DoImageSplitting = false }),
            (EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = 6, MinNewTokens = 4, Temperature = 1.1f, Seed = 9 }, null),
        };

        var reference = new List<GenerationResult>();
        foreach (var r in requests)
        {
            reference.Add(await engine.GenerateAsync(r.Conversation, r.Options, r.Processing));
        }

        int completed = 0;
        long collections;
        using (var pressure = new GcPressure())
        {
            var sw = Stopwatch.StartNew();
            async Task Worker(int offset)
            {
                for (int i = offset; sw.Elapsed < s_duration; i++)
                {
                    int k = i % requests.Length;
                    GenerationResult result = await engine.GenerateAsync(requests[k].Conversation, requests[k].Options, requests[k].Processing);
                    Assert.Equal(reference[k].OutputIds, result.OutputIds);
                    Assert.Equal(reference[k].Text, result.Text);
                    if (reference[k].LogProbs is { } expected)
                    {
                        Assert.Equal(expected.Select(l => l.LogProb), result.LogProbs!.Select(l => l.LogProb));
                    }

                    Interlocked.Increment(ref completed);
                }
            }

            await Task.WhenAll(Task.Run(() => Worker(0)), Task.Run(() => Worker(1)));
            collections = pressure.Collections;
        }

        Assert.True(completed >= requests.Length && collections > 0, $"{completed} requests under {collections} forced collections");
    }
}
