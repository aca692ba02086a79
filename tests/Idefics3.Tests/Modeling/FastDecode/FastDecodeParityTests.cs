using Idefics3.Modeling;
using Idefics3.Modeling.FastDecode;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Idefics3.Tests.Modeling.FastDecode;

/// <summary>
/// The C# decode step against the libtorch decode step on the same cache: logits of every step and the cache contents
/// it writes, for float32 and bfloat16, several positions after a cached prefix, with and without grouped-query attention.
/// </summary>
public sealed class FastDecodeParityTests(TinyModelFixture fx, ITestOutputHelper output) : IClassFixture<TinyModelFixture>
{
    // float32: the same arithmetic, only the summation order differs (logits are O(1)).
    private const float Float32Tolerance = 2e-5f;

    // bfloat16: the fast step rounds where libtorch rounds, except inside attention (scores and softmax weights stay
    // float32); measured differences are about one bfloat16 step of the logits.
    private const float BFloat16Tolerance = 0.08f;

    [Theory]
    [InlineData("fixture", ScalarType.Float32, 1)]
    [InlineData("fixture", ScalarType.Float32, 2)]
    [InlineData("fixture", ScalarType.BFloat16, 2)]
    [InlineData("gqa3", ScalarType.Float32, 2)]
    [InlineData("gqa3", ScalarType.BFloat16, 2)]
    [InlineData("mha64", ScalarType.Float32, 2)]
    [InlineData("mha64", ScalarType.BFloat16, 1)]
    public void Fast_steps_match_the_libtorch_steps_after_a_cached_prefix(string shape, ScalarType dtype, int threads)
    {
        using RandomTextModel? random = shape switch
        {
            "gqa3" => RandomTextModel.Create(hidden: 192, heads: 6, kvHeads: 2, headDim: 32, intermediate: 256, layers: 2, seed: 3),
            "mha64" => RandomTextModel.Create(hidden: 128, heads: 2, kvHeads: 2, headDim: 64, intermediate: 320, layers: 3, seed: 4),
            _ => null,
        };
        using var model = Idefics3ForConditionalGeneration.Load(random?.Folder ?? TinyModelFixture.ModelFolder, new ModelLoadOptions { Dtype = dtype });
        model.FastDecodeThreads = threads;
        Assert.NotNull(model.FastDecode);
        var profile = new DecodeProfile();
        model.FastDecode!.Profile = profile;
        using var scope = NewDisposeScope();

        // A prompt long enough that attention splits the cached positions into several ranges (300 > 2 blocks).
        const int Prompt = 300, Steps = 6;
        var generator = new Generator(11);
        Tensor ids = torch.randint(0, 250, [1, Prompt], generator: generator);
        using KvCache fastCache = model.CreateCache(1, Prompt + Steps);
        using KvCache slowCache = model.CreateCache(1, Prompt + Steps);
        model.UseFastDecode = false;
        Tensor logits = model.Forward(model.EmbedTokens(ids), torch.arange(Prompt).view(1, Prompt), null, slowCache, lastPositionOnly: true);
        fastCache.CopyPrefixFrom(slowCache, Prompt);

        float worst = 0;
        for (int step = 0; step < Steps; step++)
        {
            long next = logits.argmax(-1).item<long>();
            Tensor embeds = model.EmbedTokens(torch.tensor(new[] { next }, [1, 1]));
            Tensor position = torch.tensor(new long[] { Prompt + step }, [1, 1]);
            model.UseFastDecode = false;
            logits = model.Forward(embeds, position, null, slowCache, lastPositionOnly: true);
            model.UseFastDecode = true;
            Tensor fast = model.Forward(embeds, position, null, fastCache, lastPositionOnly: true);
            Assert.Equal(logits.shape, fast.shape);
            Assert.Equal(ScalarType.Float32, fast.dtype);
            worst = Math.Max(worst, TinyModelFixture.MaxAbsDiff(fast, logits));
        }

        Assert.Equal(Steps, profile.Steps);   // every step took the fast path
        Assert.Equal(slowCache.Length, fastCache.Length);
        float cacheDiff = 0;
        for (int layer = 0; layer < fastCache.Layers; layer++)
        {
            cacheDiff = Math.Max(cacheDiff, TinyModelFixture.MaxAbsDiff(fastCache.KeyBuffer(layer), slowCache.KeyBuffer(layer)));
            cacheDiff = Math.Max(cacheDiff, TinyModelFixture.MaxAbsDiff(fastCache.ValueBuffer(layer), slowCache.ValueBuffer(layer)));
        }

        output.WriteLine($"{shape} {dtype} threads {threads}: max |fast - libtorch| logits {worst:G4}, cache {cacheDiff:G4}");
        float tolerance = dtype == ScalarType.Float32 ? Float32Tolerance : BFloat16Tolerance;
        Assert.True(worst <= tolerance, $"logits: max |diff| {worst}");
        Assert.True(cacheDiff <= tolerance, $"cache: max |diff| {cacheDiff}");
    }

    [Fact]
    public void Greedy_golden_generation_runs_on_the_fast_path()
    {
        const string Name = "text_only";
        using var scope = NewDisposeScope();
        Assert.True(fx.Model.UseFastDecode);
        var profile = new DecodeProfile();
        fx.Model.FastDecode!.Profile = profile;
        try
        {
            long[] expected = fx.Case(Name).GetProperty("generate_new_ids")[0].EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Tensor goldenSteps = fx.Golden(Name, "greedy_step_logits_kvcache");
            float worst = 0;
            long[][] generated = fx.Model.GreedyGenerate(
                fx.Golden(Name, "input_ids"), fx.Golden(Name, "attention_mask"), null, null, expected.Length,
                (step, logits) => worst = Math.Max(worst, TinyModelFixture.MaxAbsDiff(logits[0], goldenSteps[step])));
            Assert.Equal(expected, generated[0]);
            Assert.Equal(expected.Length - 1, profile.Steps);
            Assert.True(worst <= 1e-5f, $"max |diff| {worst}");
        }
        finally
        {
            fx.Model.FastDecode.Profile = null;
        }
    }

    [Fact]
    public void Batches_and_padded_masks_stay_on_libtorch()
    {
        using var scope = NewDisposeScope();
        FastDecoder fast = fx.Model.FastDecode!;
        using KvCache two = fx.Model.CreateCache(2, 8);
        Assert.Null(fast.TryForward(fx.Model.EmbedTokens(torch.ones([2, 1], ScalarType.Int64)), torch.zeros([2, 1], ScalarType.Int64), null, two));
        using KvCache one = fx.Model.CreateCache(1, 8);
        fx.Model.Forward(fx.Model.EmbedTokens(torch.ones([1, 3], ScalarType.Int64)), torch.arange(3).view(1, 3), null, one, true);
        Tensor padded = torch.tensor(new long[] { 0, 1, 1, 1 }, [1, 4]);
        Assert.Null(fast.TryForward(fx.Model.EmbedTokens(torch.ones([1, 1], ScalarType.Int64)), torch.full([1, 1], 2L), padded, one));
        Assert.Null(fast.TryForward(fx.Model.EmbedTokens(torch.ones([1, 1], ScalarType.Int64)), torch.full([1, 1], 3L), null, null));
    }

    [Fact]
    public void A_full_cache_is_a_clear_error()
    {
        using var scope = NewDisposeScope();
        using KvCache cache = fx.Model.CreateCache(1, 2);
        fx.Model.Forward(fx.Model.EmbedTokens(torch.ones([1, 2], ScalarType.Int64)), torch.arange(2).view(1, 2), null, cache, true);
        Assert.Throws<InvalidOperationException>(() =>
            fx.Model.Forward(fx.Model.EmbedTokens(torch.ones([1, 1], ScalarType.Int64)), torch.full([1, 1], 2L), null, cache, true));
    }
}
