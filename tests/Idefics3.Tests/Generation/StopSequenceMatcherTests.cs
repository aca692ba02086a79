using System.Text;
using Idefics3.Generation;

namespace Idefics3.Tests.Generation;

public sealed class StopSequenceMatcherTests
{
    private static (string Emitted, string? Stop) Feed(StopSequenceMatcher matcher, IEnumerable<string> deltas)
    {
        var emitted = new StringBuilder();
        foreach (string delta in deltas)
        {
            StopSequenceMatch match = matcher.Append(delta);
            emitted.Append(match.Text);
            if (match.IsStop)
            {
                return (emitted.ToString(), match.StopSequence);
            }
        }

        emitted.Append(matcher.Flush());
        return (emitted.ToString(), null);
    }

    [Fact]
    public void Without_stop_sequences_deltas_pass_through_unchanged()
    {
        var matcher = new StopSequenceMatcher([]);
        Assert.Equal("abc", matcher.Append("abc").Text);
        Assert.Equal(string.Empty, matcher.Flush());
    }

    [Fact]
    public void Stop_spanning_many_deltas_is_never_partially_emitted()
    {
        var matcher = new StopSequenceMatcher(["</answer>"]);
        var pieces = new List<string>();
        foreach (string delta in new[] { "The answer is 4", "<", "/an", "sw", "er", ">", " trailing" })
        {
            StopSequenceMatch match = matcher.Append(delta);
            pieces.Add(match.Text);
            Assert.DoesNotContain("<", match.Text);
            if (match.IsStop)
            {
                Assert.Equal("</answer>", match.StopSequence);
                break;
            }
        }

        Assert.Equal("The answer is 4", string.Concat(pieces));
        Assert.True(matcher.IsStopped);
        Assert.Equal(string.Empty, matcher.Flush());
    }

    [Fact]
    public void Text_that_can_no_longer_start_a_stop_is_emitted_at_once()
    {
        var matcher = new StopSequenceMatcher(["STOP"]);
        StopSequenceMatch first = matcher.Append("hello ST");
        Assert.Equal("hello ", first.Text);
        Assert.Equal(2, matcher.HeldBackLength);
        StopSequenceMatch second = matcher.Append("AR");
        Assert.Equal("STAR", second.Text);
        Assert.False(second.IsStop);
        Assert.Equal(0, matcher.HeldBackLength);
    }

    [Fact]
    public void Held_back_text_is_flushed_at_the_end()
    {
        var matcher = new StopSequenceMatcher(["STOP"]);
        Assert.Equal("x ", matcher.Append("x STO").Text);
        Assert.Equal("STO", matcher.Flush());
    }

    [Fact]
    public void Stop_inside_a_single_delta_cuts_the_text_before_it()
    {
        Assert.Equal(("ab", "\n\n"), Feed(new StopSequenceMatcher(["\n\n"]), ["ab\n\ncd"]));
    }

    [Fact]
    public void Earliest_stop_wins_among_several()
    {
        Assert.Equal(("x", "bc"), Feed(new StopSequenceMatcher(["cd", "bc"]), ["x", "b", "cd"]));
    }

    [Fact]
    public void Overlapping_prefixes_are_matched_after_a_false_start()
    {
        // "aab" must match although the first "a" looked like the start of it.
        Assert.Equal(("xa", "aab"), Feed(new StopSequenceMatcher(["aab"]), ["x", "a", "a", "a", "b", "c"]));
        Assert.Equal(("", "abab"), Feed(new StopSequenceMatcher(["abab", "bx"]), ["ab", "ab"]));
    }

    [Fact]
    public void Longer_stop_wins_when_two_start_at_the_same_place()
    {
        Assert.Equal(("1", "END"), Feed(new StopSequenceMatcher(["EN", "END"]), ["1", "END"]));
    }

    [Fact]
    public void Empty_deltas_emit_nothing()
    {
        var matcher = new StopSequenceMatcher(["stop"]);
        StopSequenceMatch match = matcher.Append(string.Empty);
        Assert.Equal(string.Empty, match.Text);
        Assert.False(match.IsStop);
    }

    [Fact]
    public void Stop_longer_than_every_delta_is_found_one_character_at_a_time()
    {
        string text = "some text <|im_end|> more";
        (string emitted, string? stop) = Feed(new StopSequenceMatcher(["<|im_end|>"]), text.Select(c => c.ToString()));
        Assert.Equal("some text ", emitted);
        Assert.Equal("<|im_end|>", stop);
    }

    [Fact]
    public void Unicode_stops_and_surrogate_pairs_are_never_split()
    {
        (string emitted, string? stop) = Feed(new StopSequenceMatcher(["🙂 fin"]), ["Voilà ", "🙂", " fi", "n!"]);
        Assert.Equal("Voilà ", emitted);
        Assert.Equal("🙂 fin", stop);

        var matcher = new StopSequenceMatcher(["zzz"]);
        string emoji = "🙂";
        StopSequenceMatch half = matcher.Append("a" + emoji[0]);
        Assert.Equal("a", half.Text);
        Assert.Equal(emoji, matcher.Append(emoji[1].ToString()).Text);
    }

    [Fact]
    public void Appending_after_a_stop_throws()
    {
        var matcher = new StopSequenceMatcher(["x"]);
        Assert.True(matcher.Append("x").IsStop);
        Assert.Throws<InvalidOperationException>(() => matcher.Append("y"));
    }

    [Fact]
    public void Empty_stop_sequences_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new StopSequenceMatcher(["a", ""]));
    }

    [Fact]
    public void Every_split_of_a_text_gives_the_same_result()
    {
        string text = "abcab<stop>tail";
        for (int cut1 = 0; cut1 <= text.Length; cut1++)
        {
            for (int cut2 = cut1; cut2 <= text.Length; cut2++)
            {
                (string emitted, string? stop) = Feed(
                    new StopSequenceMatcher(["<stop>", "cabX"]),
                    [text[..cut1], text[cut1..cut2], text[cut2..]]);
                Assert.Equal("abcab", emitted);
                Assert.Equal("<stop>", stop);
            }
        }
    }
}
