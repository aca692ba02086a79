using Idefics3.Generation;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Tests.Generation;

public sealed class LogitsSamplerTests
{
    private const float Tolerance = 1e-5f;

    private static Tensor Logits(params float[] values) => tensor(values);

    private static Tensor LogOf(params float[] probabilities) => tensor(probabilities.Select(p => MathF.Log(p)).ToArray());

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) < Tolerance, $"index {i}: expected {expected[i]}, got {actual[i]} ([{string.Join(", ", actual)}])");
        }
    }

    [Fact]
    public void Greedy_picks_the_argmax()
    {
        using var logits = Logits(1f, 3f, 2f, 0.5f);
        using var sampler = new LogitsSampler(new GenerationOptions(), []);
        Assert.Equal(1, sampler.Sample(logits).TokenId);
    }

    [Fact]
    public void Top_k_one_equals_argmax_even_with_sampling_temperature()
    {
        using var logits = Logits(0.1f, 0.3f, 2.5f, 2.4f);
        using var sampler = new LogitsSampler(new GenerationOptions { Temperature = 5f, TopK = 1, Seed = 3 }, []);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(2, sampler.Sample(logits).TokenId);
        }
    }

    [Fact]
    public void Top_k_keeps_the_k_largest_renormalised()
    {
        using var logits = Logits(1f, 3f, 2f, 0.5f);
        using var sampler = new LogitsSampler(new GenerationOptions { Temperature = 1f, TopK = 2 }, []);
        float e3 = MathF.Exp(3), e2 = MathF.Exp(2);
        AssertClose([0, e3 / (e3 + e2), e2 / (e3 + e2), 0], sampler.Distribution(logits));
    }

    [Fact]
    public void Temperature_divides_the_logits()
    {
        // [0, ln 2] / 0.5 = [0, ln 4] -> probabilities [1/5, 4/5].
        using var logits = Logits(0f, MathF.Log(2));
        using var sampler = new LogitsSampler(new GenerationOptions { Temperature = 0.5f }, []);
        AssertClose([0.2f, 0.8f], sampler.Distribution(logits));
    }

    [Fact]
    public void Top_p_keeps_the_minimal_nucleus()
    {
        using var logits = LogOf(0.15f, 0.5f, 0.05f, 0.3f);

        // 0.5 alone < 0.75; 0.5 + 0.3 >= 0.75: keep {1, 3}.
        using (var sampler = new LogitsSampler(new GenerationOptions { Temperature = 1f, TopP = 0.75f }, []))
        {
            AssertClose([0, 0.625f, 0, 0.375f], sampler.Distribution(logits));
        }

        // 0.5 + 0.3 < 0.85: the 0.15 token is needed too.
        using (var sampler = new LogitsSampler(new GenerationOptions { Temperature = 1f, TopP = 0.85f }, []))
        {
            AssertClose([0.15f / 0.95f, 0.5f / 0.95f, 0, 0.3f / 0.95f], sampler.Distribution(logits));
        }

        // A tiny top-p still keeps the most likely token.
        using (var sampler = new LogitsSampler(new GenerationOptions { Temperature = 1f, TopP = 0.01f }, []))
        {
            AssertClose([0, 1, 0, 0], sampler.Distribution(logits));
        }
    }

    [Fact]
    public void Min_p_drops_tokens_below_the_fraction_of_the_top_probability()
    {
        // threshold 0.2 * 0.5 = 0.1: the 0.05 token goes.
        using var logits = LogOf(0.5f, 0.3f, 0.15f, 0.05f);
        using var sampler = new LogitsSampler(new GenerationOptions { Temperature = 1f, MinP = 0.2f }, []);
        AssertClose([0.5f / 0.95f, 0.3f / 0.95f, 0.15f / 0.95f, 0], sampler.Distribution(logits));
    }

    [Fact]
    public void Top_k_then_top_p_then_min_p_apply_in_order()
    {
        // top-k 3 -> [0.5, 0.3, 0.15]/0.95; top-p 0.8 over that: 0.526 + 0.316 >= 0.8 -> keep two; min-p 0.7: 0.375 < 0.7*0.625 -> one.
        using var logits = LogOf(0.5f, 0.3f, 0.15f, 0.05f);
        using var sampler = new LogitsSampler(new GenerationOptions { Temperature = 1f, TopK = 3, TopP = 0.8f }, []);
        AssertClose([0.625f, 0.375f, 0, 0], sampler.Distribution(logits));
        using var strict = new LogitsSampler(new GenerationOptions { Temperature = 1f, TopK = 3, TopP = 0.8f, MinP = 0.7f }, []);
        AssertClose([1, 0, 0, 0], strict.Distribution(logits));
    }

    [Fact]
    public void Repetition_penalty_divides_positive_and_multiplies_negative_logits_of_prompt_and_output_tokens_only()
    {
        using var logits = Logits(1f, 2f, -2f, 3f, 4f);
        using var sampler = new LogitsSampler(new GenerationOptions { RepetitionPenalty = 2f }, [1, 2, 1]);
        AssertClose([1f, 1f, -4f, 3f, 4f], sampler.PenalizedLogits(logits));

        sampler.Accept(4);
        AssertClose([1f, 1f, -4f, 3f, 2f], sampler.PenalizedLogits(logits));
    }

    [Fact]
    public void Frequency_and_presence_penalties_subtract_per_generated_token_and_ignore_the_prompt()
    {
        using var logits = Logits(1f, 2f, -2f, 3f);
        using var sampler = new LogitsSampler(new GenerationOptions { FrequencyPenalty = 0.5f, PresencePenalty = 0.25f }, [1, 2]);
        AssertClose([1f, 2f, -2f, 3f], sampler.PenalizedLogits(logits));

        sampler.Accept(3);
        sampler.Accept(3);
        sampler.Accept(0);
        // token 3: 2 * 0.5 + 0.25 = 1.25; token 0: 0.5 + 0.25 = 0.75.
        AssertClose([0.25f, 2f, -2f, 1.75f], sampler.PenalizedLogits(logits));
    }

    [Fact]
    public void Greedy_decoding_applies_penalties_before_the_argmax()
    {
        using var logits = Logits(2f, 3f);
        using var sampler = new LogitsSampler(new GenerationOptions { RepetitionPenalty = 2f }, [1]);
        Assert.Equal(0, sampler.Sample(logits).TokenId); // 3 / 2 = 1.5 < 2
    }

    [Fact]
    public void Sampling_leaves_the_callers_logits_unchanged_and_accepts_a_batch_of_one()
    {
        float[] values = [1f, 2f, -2f, 3f];
        using var logits = tensor(values, [1, 4]);
        using var sampler = new LogitsSampler(
            new GenerationOptions { Temperature = 0.7f, RepetitionPenalty = 1.5f, FrequencyPenalty = 1f, TopP = 0.9f, MinP = 0.05f, Seed = 1 },
            [0, 1, 2, 3]);
        for (int i = 0; i < 5; i++)
        {
            sampler.Sample(logits);
        }

        Assert.Equal(values, logits.data<float>().ToArray());
        Assert.Equal(5, sampler.GeneratedTokens.Count);
    }

    [Fact]
    public void Logits_with_more_than_one_row_are_rejected()
    {
        using var logits = zeros(2, 4);
        using var sampler = new LogitsSampler(new GenerationOptions(), []);
        Assert.Throws<ArgumentException>(() => sampler.Sample(logits));
    }

    [Fact]
    public void Sampling_never_picks_a_filtered_token()
    {
        using var logits = Logits(0f, 1f, 1.2f, 0.9f, 0.2f);
        using var sampler = new LogitsSampler(new GenerationOptions { Temperature = 1.5f, TopK = 2, Seed = 11 }, []);
        var seen = new HashSet<int>();
        for (int i = 0; i < 200; i++)
        {
            seen.Add(sampler.Sample(logits).TokenId);
        }

        Assert.Equal(new HashSet<int> { 1, 2 }, seen);
    }

    private static int[] Run(long? seed, int steps, out long usedSeed)
    {
        using var logits = zeros(100);
        using var sampler = new LogitsSampler(new GenerationOptions { Temperature = 1f, Seed = seed }, []);
        var tokens = new int[steps];
        for (int i = 0; i < steps; i++)
        {
            tokens[i] = sampler.Sample(logits).TokenId;
        }

        usedSeed = sampler.Seed;
        return tokens;
    }

    [Fact]
    public void Same_seed_gives_the_same_tokens_even_while_other_requests_sample_concurrently()
    {
        int[] reference = Run(42, 64, out _);
        int[][] results = new int[6][];
        Parallel.For(0, 6, i => results[i] = Run(i % 2 == 0 ? 42 : 1000 + i, 64, out _));
        Assert.Equal(reference, results[0]);
        Assert.Equal(reference, results[2]);
        Assert.Equal(reference, results[4]);
        Assert.NotEqual(reference, results[1]);
    }

    [Fact]
    public void Different_seeds_give_different_tokens()
    {
        Assert.NotEqual(Run(1, 32, out _), Run(2, 32, out _));
    }

    [Fact]
    public void Without_a_seed_one_is_drawn_reported_and_reproduces_the_run()
    {
        int[] first = Run(null, 32, out long drawn);
        Assert.Equal(first, Run(drawn, 32, out long again));
        Assert.Equal(drawn, again);
    }

    [Fact]
    public void Sampling_does_not_touch_the_global_torch_generator()
    {
        torch.random.manual_seed(7);
        using var expected = rand(4);
        torch.random.manual_seed(7);
        Run(5, 16, out _);
        using var actual = rand(4);
        Assert.Equal(expected.data<float>().ToArray(), actual.data<float>().ToArray());
    }

    [Fact]
    public void Log_probs_come_from_the_raw_logits_before_penalties_and_temperature()
    {
        // raw probabilities [0.25, 0.75]; the penalty makes token 0 the greedy choice.
        using var logits = Logits(0.5f, 0.5f + MathF.Log(3));
        using var sampler = new LogitsSampler(new GenerationOptions { RepetitionPenalty = 100f, LogProbs = true, TopLogProbs = 2 }, [1]);
        SampledToken token = sampler.Sample(logits);

        Assert.Equal(0, token.TokenId);
        Assert.NotNull(token.LogProb);
        Assert.Equal(0, token.LogProb.TokenId);
        Assert.Equal(MathF.Log(0.25f), token.LogProb.LogProb, 5);
        Assert.Equal([1, 0], token.LogProb.TopLogProbs.Select(t => t.TokenId));
        Assert.Equal(MathF.Log(0.75f), token.LogProb.TopLogProbs[0].LogProb, 5);
        Assert.Equal(MathF.Log(0.25f), token.LogProb.TopLogProbs[1].LogProb, 5);
    }

    [Fact]
    public void Log_probs_are_absent_unless_requested_and_alternatives_are_absent_when_top_is_zero()
    {
        using var logits = Logits(0f, 1f, 2f);
        using var off = new LogitsSampler(new GenerationOptions(), []);
        Assert.Null(off.Sample(logits).LogProb);
        using var on = new LogitsSampler(new GenerationOptions { LogProbs = true }, []);
        TokenLogProb? lp = on.Sample(logits).LogProb;
        Assert.NotNull(lp);
        Assert.Empty(lp.TopLogProbs);
    }

    [Fact]
    public void Bfloat16_logits_are_sampled_as_float32()
    {
        using var logits = Logits(0f, 5f, 1f).to_type(ScalarType.BFloat16);
        using var sampler = new LogitsSampler(new GenerationOptions { LogProbs = true }, []);
        Assert.Equal(1, sampler.Sample(logits).TokenId);
    }
}
