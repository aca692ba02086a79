using Idefics3.Generation;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Tests.Generation;

public sealed class ConstrainedSamplingTests
{
    private const int Vocab = 64;
    private const int EndId = 5;

    private static float[] Logits(int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, Vocab).Select(_ => (float)(random.NextDouble() * 8 - 4))];
    }

    private static int ArgMax(float[] values, Func<int, bool> allowed) =>
        Enumerable.Range(0, values.Length).Where(allowed).MaxBy(i => values[i]);

    [Fact]
    public void Greedy_under_a_constraint_is_the_argmax_over_the_allowed_ids_and_masks_only_when_the_first_pick_is_rejected()
    {
        float[] values = Logits(1);
        int best = ArgMax(values, _ => true);
        var allowed = new HashSet<int> { 3, 17, 40, 41, 63 };
        allowed.Remove(best);
        var constraint = new AllowListConstraint(allowed, 1);
        using var sampler = new LogitsSampler(new GenerationOptions(), [1, 2]);
        using Tensor logits = torch.tensor(values);

        SampledToken token = sampler.Sample(logits, constraint, 10);

        Assert.Equal(ArgMax(values, allowed.Contains), token.TokenId);
        Assert.Equal(1, constraint.MaskCalls);
        Assert.Equal([token.TokenId], constraint.Accepted);

        // The unconstrained argmax, when allowed, is taken without building a mask.
        var permissive = new AllowListConstraint(new HashSet<int> { best }, 1);
        using var second = new LogitsSampler(new GenerationOptions(), [1, 2]);
        Assert.Equal(best, second.Sample(logits, permissive, 10).TokenId);
        Assert.Equal(0, permissive.MaskCalls);
        Assert.Equal(1, permissive.AllowedChecks);
    }

    [Fact]
    public void Penalties_apply_before_the_constraint()
    {
        float[] values = new float[Vocab];
        values[10] = 3f;
        values[11] = 2.5f;
        values[12] = 1f;
        var allowed = new HashSet<int> { 10, 11 };
        // Token 10 is in the prompt: a repetition penalty of 2 halves its logit (1.5 < 2.5), so 11 wins.
        using var sampler = new LogitsSampler(new GenerationOptions { RepetitionPenalty = 2f }, [10]);
        using Tensor logits = torch.tensor(values);
        Assert.Equal(11, sampler.Sample(logits, new AllowListConstraint(allowed, 0), 5).TokenId);
    }

    [Fact]
    public void Seeded_sampling_under_a_constraint_is_deterministic_and_stays_inside_the_allowed_ids()
    {
        var allowed = new HashSet<int> { 2, 9, 30, 31, 32, 50 };
        var options = new GenerationOptions { Temperature = 1.3f, TopP = 0.95f, Seed = 42 };
        int[] Run()
        {
            var constraint = new AllowListConstraint(allowed, 0);
            using var sampler = new LogitsSampler(options, []);
            return [.. Enumerable.Range(0, 40).Select(step =>
            {
                using Tensor logits = torch.tensor(Logits(100 + step));
                return sampler.Sample(logits, constraint, 40 - step).TokenId;
            })];
        }

        int[] first = Run();
        Assert.Equal(first, Run());
        Assert.All(first, id => Assert.Contains(id, allowed));
        Assert.True(first.Distinct().Count() > 1, "sampling, not argmax");
    }

    [Fact]
    public void An_end_id_is_allowed_only_once_the_constraint_is_complete_and_is_not_passed_to_accept()
    {
        float[] values = Logits(7);
        values[EndId] = 100f; // the model wants to end at once
        var allowed = new HashSet<int> { 20, 21 };
        var constraint = new AllowListConstraint(allowed, 1);
        using var sampler = new LogitsSampler(new GenerationOptions(), [], [EndId]);
        using Tensor logits = torch.tensor(values);

        int first = sampler.Sample(logits, constraint, 5).TokenId;
        Assert.Contains(first, allowed);
        Assert.Equal(EndId, sampler.Sample(logits, constraint, 4).TokenId);
        Assert.Equal([first], constraint.Accepted); // the end id never reached Accept (the allow-list would throw)
    }

    [Fact]
    public void A_constraint_that_allows_nothing_fails_clearly()
    {
        using var sampler = new LogitsSampler(new GenerationOptions(), []);
        using Tensor logits = torch.tensor(Logits(3));
        var ex = Assert.Throws<InvalidOperationException>(() => sampler.Sample(logits, new AllowListConstraint(new HashSet<int>(), 5), 3));
        Assert.Contains("constraint", ex.Message, StringComparison.OrdinalIgnoreCase);
    }
}
