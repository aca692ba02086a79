using Idefics3.Engine;
using Idefics3.Generation;
using Idefics3.Processing;
using Idefics3.Tests.Generation;

namespace Idefics3.Tests.Engine;

/// <summary>The decode loop under a per-request constraint, driven with a runner that counts forward passes.</summary>
public sealed class ConstrainedDecodingTests : IClassFixture<EngineFixture>, IDisposable
{
    private readonly EngineFixture _fixture;
    private readonly DecodeServices _services;

    public ConstrainedDecodingTests(EngineFixture fixture)
    {
        _fixture = fixture;
        _services = SessionServices.Over(fixture.Engine);
    }

    public void Dispose() => _services.Dispose();

    private Idefics3Engine Engine => _fixture.Engine;

    private (List<GenerationUpdate> Updates, CountingRunner Runner) Run(ITokenConstraint? constraint, GenerationOptions options, int maxNewTokens)
    {
        int[] ids = Engine.Processor.Process(EngineFixture.TextConversation()).InputIds;
        var prompt = new PreparedPrompt { InputIds = ids, Images = [], Constraint = constraint };
        var runner = new CountingRunner(_services.Runner);
        var updates = new List<GenerationUpdate>();
        new GenerationSession(_services with { Runner = runner }, prompt, options, maxNewTokens, 0).Run(updates.Add, CancellationToken.None);
        return (updates, runner);
    }

    private int[] Words(string text) => Engine.Tokenizer.Encode(text);

    private static int[] Output(List<GenerationUpdate> updates) => [.. updates.SelectMany(u => u.TokenIds)];

    [Fact]
    public void Greedy_decoding_under_an_allow_list_takes_the_argmax_over_the_allowed_ids_at_every_step()
    {
        var allowed = new HashSet<int>(Words(" red green blue yellow purple orange"));
        var constraint = new AllowListConstraint(allowed, 3);
        (List<GenerationUpdate> updates, CountingRunner runner) = Run(constraint, new GenerationOptions(), 6);

        int[] output = Output(updates);
        Assert.Equal(6, output.Length);
        for (int step = 0; step < output.Length; step++)
        {
            float[] logits = runner.Logits[step];
            Assert.Equal(allowed.MaxBy(id => logits[id]), output[step]);
        }

        Assert.Equal(FinishReason.Length, updates[^1].FinishReason);
        Assert.True(updates[^1].ConstraintSatisfied);
        Assert.Equal(1, runner.PrefillCalls);
        Assert.Equal(5, runner.DecodeCalls);
    }

    [Fact]
    public void Seeded_sampling_under_a_constraint_repeats_exactly()
    {
        var allowed = new HashSet<int>(Words(" one two three four five six seven"));
        var options = new GenerationOptions { Temperature = 1.5f, TopK = 50, Seed = 21 };
        // Never complete: an end-of-sequence id may not be chosen, so all eight tokens come from the list.
        int[] first = Output(Run(new AllowListConstraint(allowed, int.MaxValue), options, 8).Updates);
        int[] second = Output(Run(new AllowListConstraint(allowed, int.MaxValue), options, 8).Updates);
        Assert.Equal(8, first.Length);
        Assert.Equal(first, second);
        Assert.All(first, id => Assert.Contains(id, allowed));
    }

    [Fact]
    public void A_constraint_that_must_end_stops_with_finish_stop_and_no_extra_forward_pass()
    {
        int[] sequence = Words(" The answer");
        (List<GenerationUpdate> updates, CountingRunner runner) = Run(new SequenceConstraint(sequence, mustEnd: true), new GenerationOptions(), 20);

        Assert.Equal(sequence, Output(updates));
        Assert.Equal(FinishReason.Stop, updates[^1].FinishReason);
        Assert.True(updates[^1].ConstraintSatisfied);
        Assert.Equal(" The answer", string.Concat(updates.Select(u => u.Text)));
        // The prefill gave the first token; each later token needed one decode step; none after the last.
        Assert.Equal(1, runner.PrefillCalls);
        Assert.Equal(sequence.Length - 1, runner.DecodeCalls);
    }

    [Fact]
    public void A_budget_that_runs_out_first_ends_with_length_and_reports_the_output_incomplete()
    {
        int[] sequence = Words(" a b c d e f");
        (List<GenerationUpdate> updates, CountingRunner runner) = Run(new SequenceConstraint(sequence, mustEnd: true), new GenerationOptions(), 3);

        Assert.Equal(sequence[..3], Output(updates));
        Assert.Equal(FinishReason.Length, updates[^1].FinishReason);
        Assert.False(updates[^1].ConstraintSatisfied);
        Assert.Equal(2, runner.DecodeCalls);
    }

    [Fact]
    public void Stop_strings_do_not_cut_a_constrained_output()
    {
        int[] sequence = Words(" stop here please");
        var options = new GenerationOptions { StopSequences = ["here"] };
        (List<GenerationUpdate> updates, _) = Run(new SequenceConstraint(sequence, mustEnd: true), options, sequence.Length + 5);

        Assert.Equal(sequence, Output(updates));
        Assert.Equal(" stop here please", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(FinishReason.Stop, updates[^1].FinishReason);
        Assert.Null(updates[^1].StopSequence);
    }

    [Fact]
    public void An_end_token_allowed_by_a_complete_constraint_ends_the_output_normally()
    {
        int[] sequence = Words(" done");
        // After the sequence nothing but an end-of-sequence id is allowed (the constraint is complete and rejects the rest).
        (List<GenerationUpdate> updates, CountingRunner runner) = Run(new SequenceConstraint(sequence, mustEnd: false), new GenerationOptions(), 10);

        int[] output = Output(updates);
        Assert.Equal(sequence, output[..^1]);
        Assert.Contains(output[^1], Engine.EndOfSequenceTokenIds);
        Assert.Equal(FinishReason.Stop, updates[^1].FinishReason);
        Assert.True(updates[^1].ConstraintSatisfied);
        Assert.Equal(sequence.Length, runner.DecodeCalls);
    }

    [Fact]
    public async Task Unconstrained_requests_report_no_constraint_result()
    {
        GenerationResult result = await Engine.GenerateAsync(EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = 2 });
        Assert.Null(result.ConstraintSatisfied);
    }
}
