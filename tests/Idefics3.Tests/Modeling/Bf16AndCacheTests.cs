using Idefics3.Modeling;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Idefics3.Tests.Modeling;

public sealed class Bf16AndCacheTests(TinyModelFixture fx, ITestOutputHelper output) : IClassFixture<TinyModelFixture>
{
    /// <summary>
    /// Measured max |bf16 − fp32| on the tiny model's last-position logits: 0.031 to 0.046 over these four cases (logit scale ~±4; bf16 has an
    /// 8-bit mantissa). The bound leaves room for CPU kernel differences while still failing on any real bug (which
    /// moves logits by O(1)).
    /// </summary>
    private const float Bf16LogitTolerance = 0.1f;

    [Theory]
    [InlineData("text_only")]
    [InlineData("single_image")]
    [InlineData("split_2x2")]
    [InlineData("batch2_padded")]
    public void Bf16_model_logits_stay_close_to_the_float32_golden(string name)
    {
        using var model = Idefics3ForConditionalGeneration.Load(TinyModelFixture.ModelFolder, new ModelLoadOptions { Dtype = ScalarType.BFloat16 });
        using var scope = torch.NewDisposeScope();
        Tensor ids = fx.Golden(name, "input_ids");
        Tensor mask = fx.Golden(name, "attention_mask");
        Tensor embeds = model.EmbedTokens(ids);
        Assert.Equal(ScalarType.BFloat16, embeds.dtype);
        Tensor? pixels = fx.GoldenOrNull(name, "pixel_values");
        if (pixels is not null)
        {
            Tensor features = model.EncodeImages(pixels, fx.Golden(name, "pixel_attention_mask"));
            Assert.Equal(ScalarType.BFloat16, features.dtype);
            embeds = model.MergeImageFeatures(embeds, ids, features);
        }

        Tensor logits = model.Forward(embeds, Idefics3ForConditionalGeneration.PositionIdsFromAttentionMask(mask), mask, null, true);
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Tensor golden = fx.Golden(name, "logits").narrow(1, ids.shape[1] - 1, 1);
        float d = TinyModelFixture.MaxAbsDiff(logits, golden);
        output.WriteLine($"{name}: max |bf16 - fp32 golden| = {d:G4}");
        Assert.True(d <= Bf16LogitTolerance, $"max |diff| {d}");
    }

    [Fact]
    public void Cropped_and_copied_cache_prefix_reproduces_a_fresh_prefill()
    {
        using var scope = torch.NewDisposeScope();
        Tensor ids = fx.Golden("text_only", "input_ids");
        long t = ids.shape[1];
        Tensor embeds = fx.Model.EmbedTokens(ids);
        Tensor positions = torch.arange(t).view(1, t);
        Tensor expected = fx.Model.Forward(embeds, positions, null, null, lastPositionOnly: true);

        using KvCache cache = fx.Model.CreateCache(1, t + 4);
        // cache a prefix of 30 tokens plus 10 junk tokens, crop the junk away, then append the rest
        Tensor junk = fx.Model.EmbedTokens(torch.full([1, 10], 42L));
        fx.Model.Forward(embeds.narrow(1, 0, 30), positions.narrow(1, 0, 30), null, cache, true);
        fx.Model.Forward(junk, torch.arange(30L, 40L).view(1, 10), null, cache, true);
        Assert.Equal(40, cache.Length);
        cache.Crop(30);
        Tensor viaCrop = fx.Model.Forward(embeds.narrow(1, 30, t - 30), positions.narrow(1, 30, t - 30), null, cache, true);
        Assert.True(TinyModelFixture.MaxAbsDiff(viaCrop, expected) <= 1e-5f);

        using KvCache copy = fx.Model.CreateCache(1, t);
        copy.CopyPrefixFrom(cache, 30);
        Tensor viaCopy = fx.Model.Forward(embeds.narrow(1, 30, t - 30), positions.narrow(1, 30, t - 30), null, copy, true);
        Assert.True(TinyModelFixture.MaxAbsDiff(viaCopy, expected) <= 1e-5f);
        Assert.Equal(t, copy.Length);
        Assert.Throws<InvalidOperationException>(() => fx.Model.Forward(embeds.narrow(1, 0, 1), positions.narrow(1, 0, 1), null, copy, true));
    }

    [Fact]
    public void Cancellation_is_checked_between_vision_chunks()
    {
        using var scope = torch.NewDisposeScope();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => fx.Model.EncodeImages(fx.Golden("split_2x2", "pixel_values"), null, cts.Token));
    }
}
