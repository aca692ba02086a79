using Idefics3.Generation;

namespace Idefics3.Tests.Generation;

public sealed class PrefixCacheIndexTests
{
    private const string Key = "smolvlm-256m|bf16|cpu";
    private const int Image = 99;

    [Fact]
    public void Common_prefix_compares_image_tokens_by_image_hash()
    {
        TokenPrefix a = TokenPrefix.Create([1, Image, Image, 2, 3], Image, ["hashA"], [2]);
        TokenPrefix sameImage = TokenPrefix.Create([1, Image, Image, 2, 4], Image, ["hashA"], [2]);
        TokenPrefix otherImage = TokenPrefix.Create([1, Image, Image, 2, 3], Image, ["hashB"], [2]);

        Assert.Equal(4, a.CommonPrefixLength(sameImage));
        Assert.Equal(1, a.CommonPrefixLength(otherImage));
        Assert.NotEqual(a, otherImage);
        Assert.Equal(a, TokenPrefix.Create([1, Image, Image, 2, 3], Image, ["hashA"], [2]));
        Assert.Equal(a.GetHashCode(), TokenPrefix.Create([1, Image, Image, 2, 3], Image, ["hashA"], [2]).GetHashCode());
    }

    [Fact]
    public void Image_tokens_are_assigned_to_images_in_order()
    {
        TokenPrefix twoImages = TokenPrefix.Create([Image, Image, 5, Image], Image, ["h1", "h2"], [2, 1]);
        TokenPrefix swapped = TokenPrefix.Create([Image, Image, 5, Image], Image, ["h1", "h3"], [2, 1]);
        Assert.Equal(3, twoImages.CommonPrefixLength(swapped));
        Assert.Throws<ArgumentException>(() => TokenPrefix.Create([Image, Image], Image, ["h1"], [1]));
        Assert.Throws<ArgumentException>(() => TokenPrefix.Create([Image], Image, ["h1"], [2]));
    }

    [Fact]
    public void Finds_the_entry_with_the_longest_common_prefix()
    {
        using var index = new PrefixCacheIndex<string>(1_000_000, _ => 100);
        index.Add(Key, new TokenPrefix([1, 2]), "short").Dispose();
        index.Add(Key, new TokenPrefix([1, 2, 3, 4]), "long").Dispose();
        index.Add(Key, new TokenPrefix([1, 2, 3, 9, 9, 9]), "diverging").Dispose();

        using PrefixCacheMatch<string>? full = index.FindLongest(Key, new TokenPrefix([1, 2, 3, 4, 5]));
        Assert.NotNull(full);
        Assert.Equal("long", full.Value);
        Assert.Equal(4, full.MatchedLength);
        Assert.True(full.IsFullPrefix);

        using PrefixCacheMatch<string>? partial = index.FindLongest(Key, new TokenPrefix([1, 2, 3, 9, 7]));
        Assert.NotNull(partial);
        Assert.Equal("diverging", partial.Value);
        Assert.Equal(4, partial.MatchedLength);
        Assert.False(partial.IsFullPrefix);

        using PrefixCacheMatch<string>? onlyFull = index.FindLongest(Key, new TokenPrefix([1, 2, 3, 9, 7]), requireFullPrefix: true);
        Assert.NotNull(onlyFull);
        Assert.Equal("short", onlyFull.Value);

        Assert.Null(index.FindLongest(Key, new TokenPrefix([7, 1, 2])));
        Assert.Null(index.FindLongest(Key, new TokenPrefix([1, 5]), minimumLength: 2));
    }

    [Fact]
    public void Entries_are_never_returned_for_a_different_compatibility_key()
    {
        using var index = new PrefixCacheIndex<string>(1_000_000, _ => 1);
        index.Add(Key, new TokenPrefix([1, 2, 3]), "bf16").Dispose();
        Assert.Null(index.FindLongest("smolvlm-256m|f32|cpu", new TokenPrefix([1, 2, 3, 4])));
        Assert.NotNull(index.FindLongest(Key, new TokenPrefix([1, 2, 3, 4])));
    }

    [Fact]
    public void Memory_is_bounded_by_bytes_including_the_token_sequences()
    {
        var released = new List<string>();
        TokenPrefix tokens = new([1, 2, 3]);
        long entryBytes = 1000 + tokens.EstimatedBytes;
        using var index = new PrefixCacheIndex<string>(2 * entryBytes, _ => 1000, released.Add);
        index.Add(Key, new TokenPrefix([1, 2, 3]), "first").Dispose();
        index.Add(Key, new TokenPrefix([4, 5, 6]), "second").Dispose();
        index.Add(Key, new TokenPrefix([7, 8, 9]), "third").Dispose();

        Assert.Equal(["first"], released);
        Assert.Equal(2 * entryBytes, index.CurrentBytes);
    }

    [Fact]
    public void A_matched_entry_stays_alive_until_the_match_is_disposed()
    {
        var released = new List<string>();
        using var index = new PrefixCacheIndex<string>(1_000_000, _ => 1, released.Add, maxEntries: 1);
        index.Add(Key, new TokenPrefix([1, 2]), "kv").Dispose();
        PrefixCacheMatch<string>? match = index.FindLongest(Key, new TokenPrefix([1, 2, 3]));
        Assert.NotNull(match);
        index.Add(Key, new TokenPrefix([5]), "other").Dispose();
        Assert.Empty(released);
        match.Dispose();
        Assert.Equal(["kv"], released);
    }
}
