using System.Text.Json;
using Idefics3.Generation;
using Microsoft.Extensions.AI;

namespace Idefics3.Tests.ChatClient;

/// <summary>
/// ChatOptions.AdditionalProperties keys, given as <see cref="JsonElement"/> values as Semantic Kernel's settings round
/// trip produces them: each one changes what it should.
/// </summary>
[Collection(ChatClientTestGroup.Name)]
public sealed class AdditionalPropertiesTests
{
    private readonly ChatClientFixture _fixture;

    public AdditionalPropertiesTests(ChatClientFixture fixture) => _fixture = fixture;

    private Idefics3ChatClient Client => _fixture.Client;

    private static ChatMessage[] ImageQuestion => [new(ChatRole.User, [ChatClientFixture.Png(ChatClientFixture.ImageC), new TextContent("Describe.")])];

    [Fact]
    public async Task Repetition_penalty_changes_the_greedy_tokens()
    {
        ChatResponse plain = await Client.GetResponseAsync("Repeat after me: la la la la", ChatClientFixture.Greedy(12));
        ChatResponse penalised = await Client.GetResponseAsync("Repeat after me: la la la la", With(ChatClientFixture.Greedy(12), "repetition_penalty", 5.0));

        Assert.NotEqual(ChatClientFixture.Raw(plain).OutputIds, ChatClientFixture.Raw(penalised).OutputIds);
    }

    [Fact]
    public async Task Min_p_prunes_the_candidates_and_so_changes_what_a_seeded_sampler_picks()
    {
        var hot = new ChatOptions { Temperature = 3f, Seed = 3, MaxOutputTokens = 10 };
        ChatResponse sampled = await Client.GetResponseAsync("Hello there", hot);
        ChatResponse pruned = await Client.GetResponseAsync("Hello there", With(hot.Clone(), "min_p", 0.5));
        ChatResponse prunedAgain = await Client.GetResponseAsync("Hello there", With(hot.Clone(), "min_p", 0.5));

        Assert.NotEqual(ChatClientFixture.Raw(sampled).OutputIds, ChatClientFixture.Raw(pruned).OutputIds);
        Assert.Equal(ChatClientFixture.Raw(pruned).OutputIds, ChatClientFixture.Raw(prunedAgain).OutputIds);
    }

    [Fact]
    public async Task Do_image_splitting_false_reduces_the_image_tokens()
    {
        ChatResponse split = await Client.GetResponseAsync(ImageQuestion, ChatClientFixture.Greedy(1));
        ChatResponse whole = await Client.GetResponseAsync(ImageQuestion, With(ChatClientFixture.Greedy(1), "do_image_splitting", false));

        long splitTokens = split.Usage!.AdditionalCounts!["image_tokens"], wholeTokens = whole.Usage!.AdditionalCounts!["image_tokens"];
        Assert.True(wholeTokens < splitTokens, $"{wholeTokens} < {splitTokens}");
        Assert.Equal(_fixture.Engine.Processor.ProcessorConfig.ImageSeqLen, wholeTokens);
    }

    [Fact]
    public async Task Longest_edge_changes_how_many_tiles_an_image_becomes()
    {
        ChatResponse large = await Client.GetResponseAsync(ImageQuestion, ChatClientFixture.Greedy(1));
        ChatResponse small = await Client.GetResponseAsync(ImageQuestion, With(ChatClientFixture.Greedy(1), "longest_edge", 56));

        Assert.True(small.Usage!.AdditionalCounts!["image_tokens"] < large.Usage!.AdditionalCounts!["image_tokens"]);
    }

    [Fact]
    public async Task Logprobs_return_one_entry_per_generated_token()
    {
        ChatResponse response = await Client.GetResponseAsync("Hi", With(ChatClientFixture.Greedy(4), "logprobs", true));

        var logProbs = Assert.IsAssignableFrom<IReadOnlyList<TokenLogProb>>(response.AdditionalProperties!["logprobs"]);
        Assert.Equal(ChatClientFixture.Raw(response).OutputIds, logProbs.Select(l => l.TokenId));
        Assert.All(logProbs, l => Assert.True(l.LogProb <= 0));
    }

    [Fact]
    public async Task Top_logprobs_return_that_many_alternatives_per_token_and_imply_logprobs()
    {
        ChatResponse response = await Client.GetResponseAsync("Hi", With(ChatClientFixture.Greedy(3), "top_logprobs", 3));

        var logProbs = Assert.IsAssignableFrom<IReadOnlyList<TokenLogProb>>(response.AdditionalProperties!["logprobs"]);
        Assert.Equal(3, logProbs.Count);
        Assert.All(logProbs, l => Assert.Equal(3, l.TopLogProbs.Count));
    }

    [Fact]
    public async Task Without_logprobs_no_logprobs_are_returned()
    {
        ChatResponse response = await Client.GetResponseAsync("Hi", ChatClientFixture.Greedy(2));

        Assert.False(response.AdditionalProperties!.ContainsKey("logprobs"));
    }

    [Fact]
    public async Task Values_of_the_wrong_kind_are_refused_naming_the_key()
    {
        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() =>
            Client.GetResponseAsync("Hi", With(ChatClientFixture.Greedy(1), "do_image_splitting", "maybe")));
        Assert.Contains("do_image_splitting", error.Message, StringComparison.Ordinal);

        error = await Assert.ThrowsAsync<ArgumentException>(() => Client.GetResponseAsync("Hi", With(ChatClientFixture.Greedy(1), "top_logprobs", 2.5)));
        Assert.Contains("top_logprobs", error.Message, StringComparison.Ordinal);

        error = await Assert.ThrowsAsync<ArgumentException>(() => Client.GetResponseAsync("Hi", With(ChatClientFixture.Greedy(1), "alpha_handling", "purple")));
        Assert.Contains("alpha_handling", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("0")]
    [InlineData(" 2 ")]
    public async Task Enum_valued_options_accept_names_only_not_numbers(string value)
    {
        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => Client.GetResponseAsync("Hi", With(ChatClientFixture.Greedy(1), "alpha_handling", value)));
        Assert.Contains("alpha_handling", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clr_values_work_like_their_json_element_forms()
    {
        var options = ChatClientFixture.Greedy(1);
        options.AdditionalProperties = new() { ["do_image_splitting"] = false };

        ChatResponse clr = await Client.GetResponseAsync(ImageQuestion, options);
        ChatResponse json = await Client.GetResponseAsync(ImageQuestion, With(ChatClientFixture.Greedy(1), "do_image_splitting", false));

        Assert.Equal(ChatClientFixture.Raw(json).InputIds, ChatClientFixture.Raw(clr).InputIds);
    }

    /// <summary>Adds <paramref name="key"/> as a <see cref="JsonElement"/>, as it arrives from Semantic Kernel.</summary>
    private static ChatOptions With(ChatOptions options, string key, object value)
    {
        (options.AdditionalProperties ??= [])[key] = JsonSerializer.SerializeToElement(value);
        return options;
    }
}
