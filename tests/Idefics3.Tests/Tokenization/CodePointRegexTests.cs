using System.Globalization;
using Idefics3.Tokenization;

namespace Idefics3.Tests.Tokenization;

public class CodePointRegexTests
{
    public static TheoryData<UnicodeCategory> Categories()
    {
        var data = new TheoryData<UnicodeCategory>();
        foreach (var c in Enum.GetValues<UnicodeCategory>())
        {
            if (c is not (UnicodeCategory.Control or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate))
            {
                data.Add(c);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Categories))]
    public void Every_stand_in_has_the_category_it_stands_for_and_is_no_literal_of_the_known_patterns(UnicodeCategory category)
    {
        char standIn = CodePointRegex.StandInFor(category);

        Assert.Equal(category, CharUnicodeInfo.GetUnicodeCategory(standIn));
        Assert.False(char.IsWhiteSpace(standIn));
        Assert.DoesNotMatch(@"(?i:[strevmld'])", standIn.ToString());
    }

    [Fact]
    public void Letters_outside_the_bmp_are_matched_as_one_code_point_each()
    {
        var letters = new CodePointRegex(@"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+");
        var pieces = new List<string>();

        letters.Split("(𝑥𝑦)+𝟏𝟐𝟑𝟒 a", keepMatches: true, pieces);

        Assert.Equal(["(𝑥𝑦", ")+", "𝟏𝟐𝟑", "𝟒", " a"], pieces);
    }

    [Fact]
    public void Removed_behaviour_keeps_only_the_text_between_matches()
    {
        var comma = new CodePointRegex(",");
        var pieces = new List<string>();

        comma.Split("𠀀,b,,𝑥", keepMatches: false, pieces);

        Assert.Equal(["𠀀", "b", "𝑥"], pieces);
    }

    [Fact]
    public void Digits_are_split_per_code_point_also_outside_the_bmp()
    {
        var individual = new List<string>();
        var grouped = new List<string>();

        DigitSplitter.Split("a𝟏2Ⅻ½b", individual: true, individual);
        DigitSplitter.Split("a𝟏2Ⅻ½b", individual: false, grouped);

        Assert.Equal(["a", "𝟏", "2", "Ⅻ", "½", "b"], individual);
        Assert.Equal(["a", "𝟏2Ⅻ½", "b"], grouped);
    }
}
