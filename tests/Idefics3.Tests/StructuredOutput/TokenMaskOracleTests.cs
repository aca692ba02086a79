using System.Text;
using Idefics3.StructuredOutput;

namespace Idefics3.Tests.StructuredOutput;

/// <summary>The fast mask (trie walk, plain-string shortcut, steering) equals a brute-force check of every token.</summary>
public class TokenMaskOracleTests
{
    private const int EndId = 7;
    private const int Extra = 5; // logits past the tokenizer's size (a padded model vocabulary)

    private static readonly string[] s_pieces =
    [
        "{\"", "\":", "\",", "\"}", "\"]", "\"},", "\":\"", "\":[", "\":{", "name", "age", "tags", "nick", "$type", "circle", "square",
        " ", "\n", "  ", "\n  ", "12", "0.", ".5", "-1", "99", "1234", "true", "null", "nu", "ll", "fal", "se", "],", "[{", "}]", "}}",
        "\\n", "\\", "\\u", "\\\"", "é", "Zoë", "日本", "😀", "2024", "-0", "T10", ":00", "Z\"", "https", "://", ".com", "@", "abc", "ABC",
    ];

    private static TokenIndex SmallIndex()
    {
        var tokens = new List<byte[]?>();
        for (int b = 0; b < 256; b++)
        {
            tokens.Add(b == EndId ? null : [(byte)b]); // id 7 is the end token (byte 7 is a control char anyway)
        }

        tokens.Add(null); // an added/special token: never allowed
        foreach (string piece in s_pieces)
        {
            tokens.Add(Encoding.UTF8.GetBytes(piece));
        }

        byte[] emoji = Encoding.UTF8.GetBytes("😀");
        tokens.Add(emoji[..2]); // tokens that split a character
        tokens.Add(emoji[2..]);
        tokens.Add([0xE2, 0x82]);
        tokens.Add([0xAC, (byte)'"']);
        return TokenIndex.FromBytes([.. tokens], [EndId]);
    }

    public static TheoryData<string, int> Cases() => new()
    {
        { """{"type":"object","properties":{"name":{"type":"string","maxLength":6},"age":{"type":"integer","minimum":0,"maximum":150},"tags":{"type":"array","items":{"type":"string"},"maxItems":2},"nick":{"type":["string","null"]}}}""", 1000 },
        { """{"type":"object","required":["$type"],"anyOf":[{"properties":{"$type":{"const":"circle"},"r":{"type":"number","minimum":0.5}}},{"properties":{"$type":{"const":"square"},"s":{"type":"number"}}}]}""", 1000 },
        { """{"type":"object","properties":{"d":{"type":"string","format":"date-time"},"u":{"type":"string","format":"uri"},"e":{"type":"string","format":"email"},"s":{"type":"string","minLength":3}}}""", 1000 },
        { """{"type":"object","properties":{"value":{"type":"integer"},"next":{"type":["object","null"],"properties":{"value":{"type":"integer"},"next":{"$ref":"#/properties/next"}}}}}""", 40 },
        { """{"type":"object","additionalProperties":{"type":"number","exclusiveMaximum":10}}""", 30 },
        { "*", 25 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fast_mask_equals_brute_force_and_is_never_empty(string schema, int budget)
    {
        TokenIndex index = SmallIndex();
        JsonGrammar grammar = schema == "*" ? JsonSchemaCompiler.AnyObject() : JsonSchemaCompiler.Compile(schema);
        var matcher = new ByteMatcher(grammar);
        for (int seed = 0; seed < 12; seed++)
        {
            var rng = new Random(seed);
            var constraint = new JsonTokenConstraint(matcher, index);
            var output = new List<byte>();
            for (int step = 0; step < budget && !constraint.MustEnd; step++)
            {
                int remaining = budget - step;
                var logits = new float[index.VocabularySize + Extra];
                constraint.MaskLogits(logits, remaining);
                var fast = Enumerable.Range(0, logits.Length).Where(i => float.IsFinite(logits[i])).ToList();
                var brute = Enumerable.Range(0, logits.Length).Where(i => constraint.IsAllowed(i, remaining)).ToList();
                Assert.Equal(brute, fast);
                Assert.NotEmpty(fast);
                Assert.DoesNotContain(256, fast); // the special token
                Assert.All(fast, id => Assert.True(id < index.VocabularySize));

                int pick = fast[rng.Next(fast.Count)];
                constraint.Accept(pick);
                if (pick == EndId)
                {
                    break;
                }

                output.AddRange(index.BytesOf(pick)!);
            }

            if (budget >= 1000)
            {
                Assert.True(constraint.IsComplete, $"seed {seed}: {Encoding.UTF8.GetString([.. output])}");
            }
        }
    }

    [Fact]
    public void Steering_closes_the_document_when_the_budget_is_just_enough()
    {
        TokenIndex index = SmallIndex();
        var matcher = new ByteMatcher(JsonSchemaCompiler.Compile("""{"type":"object","properties":{"name":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}}}"""));
        int minimum = ByteMatcher.BytesToClose(matcher.Start);
        for (int seed = 0; seed < 20; seed++)
        {
            var constraint = new JsonTokenConstraint(matcher, index);
            var (bytes, complete, _) = ConstrainedSampler.Sample(constraint, index, new Random(seed), minimum + (seed % 4));
            Assert.True(complete, Encoding.UTF8.GetString(bytes));
            using var doc = System.Text.Json.JsonDocument.Parse(bytes);
        }
    }

    [Fact]
    public void A_budget_too_small_for_any_document_ends_incomplete_with_a_non_empty_mask()
    {
        TokenIndex index = SmallIndex();
        var matcher = new ByteMatcher(JsonSchemaCompiler.Compile("""{"type":"object","properties":{"name":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}}}"""));
        var constraint = new JsonTokenConstraint(matcher, index);
        var (_, complete, tokens) = ConstrainedSampler.Sample(constraint, index, new Random(1), 2);
        Assert.False(complete); // the generator reports Length and an incomplete document
        Assert.Equal(2, tokens);
        Assert.Throws<InvalidOperationException>(() => new JsonTokenConstraint(matcher, index).Accept(EndId));
        Assert.Throws<InvalidOperationException>(() => new JsonTokenConstraint(matcher, index).Accept('x'));
    }
}
