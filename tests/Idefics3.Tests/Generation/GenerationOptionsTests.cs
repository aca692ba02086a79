using Idefics3.Generation;

namespace Idefics3.Tests.Generation;

public sealed class GenerationOptionsTests
{
    [Fact]
    public void Defaults_come_from_GenerationDefaults_and_are_greedy()
    {
        var options = new GenerationOptions();
        Assert.Null(options.MaxNewTokens);
        Assert.Equal(GenerationDefaults.MaxNewTokens, options.EffectiveMaxNewTokens);
        Assert.Equal(0f, options.Temperature);
        Assert.True(options.IsGreedy);
        Assert.Equal(1f, options.TopP);
        Assert.Equal(0, options.TopK);
        Assert.Equal(0f, options.MinP);
        Assert.Equal(1f, options.RepetitionPenalty);
        Assert.Empty(options.StopSequences);
        Assert.Empty(options.StopTokenIds);
        Assert.False(options.LogProbs);
        Assert.Null(options.Seed);
    }

    public static TheoryData<string, Func<GenerationOptions>> InvalidOptions => new()
    {
        { nameof(GenerationOptions.MaxNewTokens), () => new GenerationOptions { MaxNewTokens = 0 } },
        { nameof(GenerationOptions.Temperature), () => new GenerationOptions { Temperature = -0.1f } },
        { nameof(GenerationOptions.Temperature), () => new GenerationOptions { Temperature = float.NaN } },
        { nameof(GenerationOptions.Temperature), () => new GenerationOptions { Temperature = float.PositiveInfinity } },
        { nameof(GenerationOptions.TopP), () => new GenerationOptions { TopP = 0f } },
        { nameof(GenerationOptions.TopP), () => new GenerationOptions { TopP = 1.01f } },
        { nameof(GenerationOptions.TopK), () => new GenerationOptions { TopK = -1 } },
        { nameof(GenerationOptions.MinP), () => new GenerationOptions { MinP = 1f } },
        { nameof(GenerationOptions.MinP), () => new GenerationOptions { MinP = -0.5f } },
        { nameof(GenerationOptions.RepetitionPenalty), () => new GenerationOptions { RepetitionPenalty = 0f } },
        { nameof(GenerationOptions.FrequencyPenalty), () => new GenerationOptions { FrequencyPenalty = 2.5f } },
        { nameof(GenerationOptions.PresencePenalty), () => new GenerationOptions { PresencePenalty = -2.5f } },
        { nameof(GenerationOptions.TopLogProbs), () => new GenerationOptions { TopLogProbs = 21 } },
        { nameof(GenerationOptions.TopLogProbs), () => new GenerationOptions { TopLogProbs = -1 } },
        { nameof(GenerationOptions.StopSequences), () => new GenerationOptions { StopSequences = Enumerable.Repeat("x", 17).ToArray() } },
        { nameof(GenerationOptions.StopTokenIds), () => new GenerationOptions { StopTokenIds = [-3] } },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Out_of_range_values_throw_naming_the_option(string name, Func<GenerationOptions> create)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => create());
        Assert.Equal(name, ex.ParamName);
    }

    [Fact]
    public void Empty_stop_sequence_throws_naming_the_option()
    {
        var ex = Assert.Throws<ArgumentException>(() => new GenerationOptions { StopSequences = ["ok", ""] });
        Assert.Equal(nameof(GenerationOptions.StopSequences), ex.ParamName);
    }

    [Fact]
    public void With_expressions_validate_too()
    {
        var options = new GenerationOptions { Temperature = 0.7f };
        Assert.Throws<ArgumentOutOfRangeException>(() => options with { TopP = 2f });
        GenerationOptions changed = options with { TopK = 5 };
        Assert.Equal(0.7f, changed.Temperature);
        Assert.Equal(5, changed.TopK);
        Assert.False(changed.IsGreedy);
    }

    [Fact]
    public void Stop_sequences_are_copied_so_the_caller_cannot_change_them()
    {
        string[] stops = ["a", "b"];
        var options = new GenerationOptions { StopSequences = stops };
        stops[0] = "changed";
        Assert.Equal(["a", "b"], options.StopSequences);
    }

    [Fact]
    public void Top_k_of_one_is_greedy_whatever_the_temperature()
    {
        Assert.True(new GenerationOptions { Temperature = 1.3f, TopK = 1 }.IsGreedy);
    }
}
