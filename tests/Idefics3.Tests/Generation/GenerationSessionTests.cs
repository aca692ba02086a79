using Idefics3.Engine;
using Idefics3.Generation;
using Idefics3.Processing;
using Idefics3.Tests.Engine;

namespace Idefics3.Tests.Generation;

public sealed class GenerationSessionTests
{
    private const int ImageToken = 259;

    [Fact]
    public void The_cached_sequence_is_the_prompt_plus_every_generated_token_fed_back()
    {
        int[] prompt = [256, 85, ImageToken, ImageToken, 58];
        Assert.Equal(new[] { 256, 85, ImageToken, ImageToken, 58, 10, 11 }, GenerationSession.CacheableSequence(prompt, [10, 11, 12], ImageToken));
        Assert.Equal(prompt, GenerationSession.CacheableSequence(prompt, [10], ImageToken));
    }

    [Fact]
    public void A_generated_image_token_id_keeps_only_the_prompt_in_the_prefix_cache()
    {
        // The model may emit the <image> id; it is an ordinary embedding then, not an image slot with features.
        int[] prompt = [256, 85, ImageToken, 58];
        Assert.Equal(prompt, GenerationSession.CacheableSequence(prompt, [10, ImageToken, 11, 12], ImageToken));
        // The last generated token is never fed back, so an <image> id there does not matter.
        Assert.Equal(new[] { 256, 85, ImageToken, 58, 10 }, GenerationSession.CacheableSequence(prompt, [10, ImageToken], ImageToken));
    }

    [Fact]
    public async Task Cancellation_during_prefill_stops_before_the_next_chunk_and_leaves_no_tensors()
    {
        await using Idefics3Engine engine = await EngineFixture.LoadAsync(
            new Idefics3EngineOptions { DType = ModelDType.Float32, PrefillChunkTokens = 4, VisionCacheBytes = 0, PrefixCacheBytes = 0 });
        using var cts = new CancellationTokenSource();
        using PreparedPrompt prompt = engine.Prepare(EngineFixture.SplitConversation(), new ProcessorOptions { LongestEdge = 112, LegacyDoubleBos = true }, new GenerationOptions());
        using DecodeServices services = SessionServices.Over(engine);
        var runner = new CountingRunner(services.Runner, calls =>
        {
            if (calls == 2)
            {
                cts.Cancel();
            }
        });
        var session = new GenerationSession(services with { Runner = runner }, prompt, new GenerationOptions(), 5, 0);

        Assert.ThrowsAny<OperationCanceledException>(() => session.Run(_ => { }, cts.Token));

        Assert.Equal(69, prompt.InputIds.Length); // 18 chunks of 4: cancelled after the second
        Assert.Equal(2, runner.PrefillCalls);
        Assert.Equal(0, runner.DecodeCalls);
        Assert.Equal(0, session.TensorBalance);
    }
}
