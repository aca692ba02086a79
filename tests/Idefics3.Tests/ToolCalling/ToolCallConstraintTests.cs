using System.ComponentModel;
using System.Text;
using System.Text.Json;
using Idefics3.StructuredOutput;
using Idefics3.Tests.StructuredOutput;
using Idefics3.ToolCalling;
using Json.Schema;
using Microsoft.Extensions.AI;

namespace Idefics3.Tests.ToolCalling;

public sealed class ToolCallConstraintTests
{
    private static readonly AIFunction Time = AIFunctionFactory.Create(() => "noon", "get_time");

    private static readonly AIFunction Weather = AIFunctionFactory.Create(
        ([Description("The city.")] string city, int days, bool metric) => "sunny", "get_weather");

    private static readonly AIFunction Order = AIFunctionFactory.Create(
        (string[] items, Priority priority, Address shipTo, double? discount) => "ok", "place_order");

    public enum Priority
    {
        Low,
        High,
    }

    // Pieces of markup as synthetic tokens, to place token boundaries exactly (id 10 is the end).
    private static readonly string[] Pieces = ["Hi", " <tool", "_call>", "_call>{\"na", "{\"name\":\"get_time\",\"arguments\":{}}", "</tool_call>", "\n<tool_call>", "_call>{\"x", " <tool_call>", "x"];

    private static TokenIndex Synthetic { get; } = TokenIndex.FromBytes([.. Pieces.Select(p => Encoding.UTF8.GetBytes(p)), null], [10]);

    private static ToolSet Tools(ChatToolMode? mode, bool multiple, params AIFunction[] functions) =>
        ToolSet.FromOptions(new ChatOptions { Tools = [.. functions], ToolMode = mode, AllowMultipleToolCalls = multiple })!;

    private static ToolCallConstraint Constraint(TokenIndex index, ToolChoice choice, bool multiple, params AIFunction[] functions) =>
        new(index, ToolConstraints.Grammar(Tools(null, multiple, functions)), choice, multiple);

    [Fact]
    public void Auto_is_free_text_until_the_tag_and_a_token_may_straddle_the_tag_only_into_a_valid_call()
    {
        ToolCallConstraint constraint = Constraint(Synthetic, ToolChoice.Auto, true, Time);

        Assert.True(constraint.IsAllowed(0, 100));
        Assert.True(constraint.IsAllowed(10, 100)); // free text may end
        constraint.Accept(0);
        constraint.Accept(1); // " <tool"
        Assert.True(constraint.IsAllowed(2, 100)); // "_call>" ends at the tag
        Assert.True(constraint.IsAllowed(3, 100)); // "_call>{\"na" runs on into a valid call
        Assert.False(constraint.IsAllowed(7, 100)); // "_call>{\"x" runs on into an invalid one
        Assert.False(constraint.IsAllowed(2, 5)); // no budget left to finish a call
        constraint.Accept(2);
        Assert.False(constraint.IsComplete);
        Assert.False(constraint.IsAllowed(10, 100)); // no end inside a call
        Assert.False(constraint.IsAllowed(0, 100));
        constraint.Accept(4);
        Assert.False(constraint.IsComplete); // the closing tag is missing
        constraint.Accept(5);
        Assert.Equal(1, constraint.Calls);
        Assert.True(constraint.IsComplete);
        Assert.False(constraint.MustEnd);
        Assert.False(constraint.IsAllowed(0, 100)); // no text after a call
        Assert.True(constraint.IsAllowed(6, 100)); // a further call
        Assert.Throws<InvalidOperationException>(() => constraint.Accept(0));
    }

    [Fact]
    public void A_required_single_call_starts_with_the_tag_and_must_end_after_it_without_another_token()
    {
        ToolCallConstraint constraint = Constraint(Synthetic, ToolChoice.RequireAny, false, Time);

        Assert.False(constraint.IsComplete);
        Assert.False(constraint.IsAllowed(0, 100)); // no text before a required call
        Assert.False(constraint.IsAllowed(10, 100));
        constraint.Accept(8); // " <tool_call>"
        constraint.Accept(4);
        constraint.Accept(5);

        Assert.Equal(1, constraint.Calls);
        Assert.True(constraint.MustEnd);
        Assert.False(constraint.IsAllowed(6, 100));
    }

    [Fact]
    public void Masks_agree_with_IsAllowed_for_every_id_including_ids_past_the_vocabulary()
    {
        foreach (ToolChoice choice in new[] { ToolChoice.Auto, ToolChoice.RequireAny })
        {
            ToolCallConstraint constraint = Constraint(Synthetic, choice, true, Time);
            if (choice == ToolChoice.Auto)
            {
                constraint.Accept(1);
            }

            var logits = new float[14];
            constraint.MaskLogits(logits, 100);

            for (int id = 0; id < logits.Length; id++)
            {
                if (id != 10)
                {
                    Assert.Equal(constraint.IsAllowed(id, 100), !float.IsNegativeInfinity(logits[id]));
                }
            }

            Assert.True(float.IsNegativeInfinity(logits[12]));
        }
    }

    [Theory]
    [InlineData("smolvlm", "RequireAny", false)]
    [InlineData("smolvlm", "RequireAny", true)]
    [InlineData("smolvlm", "Auto", true)]
    [InlineData("llama3", "RequireAny", true)]
    public void Every_call_sampled_with_random_logits_names_a_tool_and_validates_against_its_schema(string vocabulary, string mode, bool multiple)
    {
        (Idefics3.Tokenization.HuggingFaceTokenizer tokenizer, TokenIndex index) = StructuredOutputFixtures.Vocabulary(vocabulary);
        int[] ends = vocabulary == "smolvlm" ? [49279] : [128009];
        AIFunction[] functions = [Time, Weather, Order];
        var schemas = functions.ToDictionary(f => f.Name, f => JsonSchema.FromText(f.JsonSchema.GetRawText()));
        ToolChoice choice = Enum.Parse<ToolChoice>(mode);
        var random = new Random(11);
        int totalCalls = 0;
        for (int walk = 0; walk < 12; walk++)
        {
            var constraint = new ToolCallConstraint(index, ToolConstraints.Grammar(Tools(null, multiple, functions)), choice, multiple);

            // In Auto, the text starts with a sentence and the tag (random logits rarely write one), tokenized as usual.
            string start = choice == ToolChoice.Auto && walk % 3 != 0 ? "Let me check. <tool_call>" : string.Empty;
            foreach (int id in tokenizer.Encode(start))
            {
                Assert.True(constraint.IsAllowed(id, 400));
                constraint.Accept(id);
            }

            (byte[] bytes, bool complete) = ConstraintWalk.Run(constraint, index, ends, random, budget: 400);

            string text = start + Encoding.UTF8.GetString(bytes);
            Assert.True(complete, text);
            List<AIContent> contents = ToolCallAssembler.ParseAll(text);
            FunctionCallContent[] calls = [.. contents.OfType<FunctionCallContent>()];
            Assert.Equal(constraint.Calls, calls.Length);
            Assert.DoesNotContain(contents.OfType<TextContent>(), t => t.Text.Contains("<tool_call>", StringComparison.Ordinal));
            foreach (FunctionCallContent call in calls)
            {
                Assert.Null(call.Exception);
                JsonElement arguments = JsonSerializer.SerializeToElement(call.Arguments);
                EvaluationResults result = schemas[call.Name].Evaluate(arguments, new EvaluationOptions { OutputFormat = OutputFormat.List });
                Assert.True(result.IsValid, $"{call.Name}: {arguments.GetRawText()}");
            }

            if (choice != ToolChoice.Auto)
            {
                Assert.NotEmpty(calls);
                Assert.Empty(contents.OfType<TextContent>());
            }

            if (!multiple)
            {
                Assert.True(calls.Length <= 1);
            }

            totalCalls += calls.Length;
        }

        Assert.True(totalCalls > 0);
    }

    [Fact]
    public void Tools_or_a_json_answer_gives_one_or_the_other_and_nothing_else()
    {
        (_, TokenIndex index) = StructuredOutputFixtures.Vocabulary("smolvlm");
        JsonGrammar answerGrammar = JsonSchemaCompiler.Compile("{\"type\":\"object\",\"properties\":{\"total\":{\"type\":\"number\"}},\"required\":[\"total\"]}");
        var random = new Random(5);
        var seen = new HashSet<string>();
        for (int walk = 0; walk < 30; walk++)
        {
            var constraint = new EitherConstraint(
                new ToolCallConstraint(index, ToolConstraints.Grammar(Tools(null, false, Weather)), ToolChoice.RequireAny, false),
                new JsonTokenConstraint(new ByteMatcher(answerGrammar), index));

            // Favour '{' or '<' at random so that both branches are taken.
            bool braces = walk % 2 == 0;
            (byte[] bytes, bool complete) = ConstraintWalk.Run(
                constraint, index, [49279], random, budget: 300, id => index.BytesOf(id) is [var b] && b == (braces ? (byte)'{' : (byte)'<') ? 3.9f : 0);

            string text = Encoding.UTF8.GetString(bytes).Trim();
            Assert.True(complete, text);
            if (text.StartsWith('{'))
            {
                seen.Add("json");
                Assert.Equal(JsonValueKind.Number, JsonDocument.Parse(text).RootElement.GetProperty("total").ValueKind);
            }
            else
            {
                seen.Add("call");
                Assert.Equal("get_weather", Assert.IsType<FunctionCallContent>(Assert.Single(ToolCallAssembler.ParseAll(text))).Name);
            }
        }

        Assert.Equal(2, seen.Count);

    }

    public sealed record Address(string Street, string City);
}
