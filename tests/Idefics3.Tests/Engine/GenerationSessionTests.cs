using Idefics3.Engine;

namespace Idefics3.Tests.Engine;

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
}
