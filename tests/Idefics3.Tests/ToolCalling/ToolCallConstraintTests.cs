using System.Text;
using Idefics3.ToolCalling;
using Microsoft.Extensions.AI;

namespace Idefics3.Tests.ToolCalling;

public sealed class ToolCallConstraintTests
{
    private const string Body = "{\"name\":\"get_time\",\"arguments\":{}}";

    // A synthetic vocabulary to place token boundaries exactly: ids 0..7 are pieces of markup, 8 is the end.
    private static readonly string[] Pieces = ["Hi", " <tool", "_call>", "_call>{", Body, "</tool_call>", "\n<tool_call>", "}</tool_call>"];
    private static readonly TokenByteTable Synthetic = new([.. Pieces.Select(p => Encoding.UTF8.GetBytes(p)), null], new HashSet<int> { 8 });

    private static ToolCallConstraint Auto(TokenByteTable table, bool multiple = true) =>
        new(table, ToolChoice.Auto, multiple, () => new FixedTextConstraint(table, Body));

    [Fact]
    public void Auto_is_free_text_until_the_opening_tag_completes_and_then_the_call_grammar_rules()
    {
        ToolCallConstraint constraint = Auto(Synthetic);

        Assert.True(constraint.IsAllowed(0, 100));
        Assert.True(constraint.IsAllowed(8, 100)); // free text may end
        constraint.Accept(0);
        constraint.Accept(1); // " <tool"
        Assert.True(constraint.IsAllowed(2, 100)); // "_call>" ends exactly at the tag
        Assert.False(constraint.IsAllowed(3, 100)); // "_call>{" runs past it
        constraint.Accept(2);
        Assert.False(constraint.IsComplete);
        Assert.False(constraint.IsAllowed(8, 100)); // no end inside a call
        Assert.False(constraint.IsAllowed(0, 100));
        constraint.Accept(4);
        Assert.False(constraint.IsAllowed(7, 100)); // the body is complete: only the closing tag
        constraint.Accept(5);
        Assert.Equal(1, constraint.Calls);
        Assert.True(constraint.IsComplete);
        Assert.False(constraint.MustEnd);
        Assert.False(constraint.IsAllowed(0, 100)); // no text after a call
        Assert.True(constraint.IsAllowed(6, 100)); // a further call
        Assert.True(constraint.IsAllowed(8, 100));
        Assert.Throws<InvalidOperationException>(() => constraint.Accept(0));
    }

    [Fact]
    public void With_one_call_allowed_the_output_must_end_after_it_without_another_token()
    {
        ToolCallConstraint constraint = new(Synthetic, ToolChoice.RequireAny, allowMultiple: false, () => new FixedTextConstraint(Synthetic, Body));

        Assert.False(constraint.IsComplete);
        Assert.False(constraint.IsAllowed(8, 100));
        Assert.False(constraint.IsAllowed(0, 100)); // no text before a required call
        constraint.Accept(1);
        constraint.Accept(2);
        constraint.Accept(4);
        constraint.Accept(5);

        Assert.True(constraint.MustEnd);
        Assert.True(constraint.IsAllowed(8, 1));
        Assert.False(constraint.IsAllowed(6, 100));
    }

    [Fact]
    public void Masks_agree_with_IsAllowed_for_every_id_including_ids_past_the_vocabulary()
    {
        ToolCallConstraint constraint = Auto(Synthetic);
        constraint.Accept(1);
        var logits = new float[12];

        constraint.MaskLogits(logits, 100);

        for (int id = 0; id < logits.Length; id++)
        {
            Assert.Equal(constraint.IsAllowed(id, 100), !float.IsNegativeInfinity(logits[id]));
        }

        Assert.True(float.IsNegativeInfinity(logits[10]));
    }

    [Theory]
    [InlineData("RequireAny", false)]
    [InlineData("RequireAny", true)]
    [InlineData("Auto", true)]
    public void Random_walks_on_a_real_byte_level_vocabulary_always_give_well_formed_calls(string mode, bool multiple)
    {
        ToolChoice choice = Enum.Parse<ToolChoice>(mode);
        TokenByteTable table = ConstraintWalk.TinyTable;
        byte[] trigger = Encoding.UTF8.GetBytes("<tool_call>");
        for (int seed = 0; seed < 60; seed++)
        {
            var constraint = new ToolCallConstraint(table, choice, multiple, () => new FixedTextConstraint(table, Body));

            // In Auto, lean towards the tag's bytes so that calls start (a random model rarely writes one).
            (List<int> ids, bool complete) = ConstraintWalk.Run(
                constraint, seed, budget: 200, table.Count + 3, id => table.Bytes(id) is [var b] && trigger.Contains(b) ? 3.5f : 0);

            Assert.True(complete, $"seed {seed}");
            string text = ConstraintWalk.Text(ids);
            List<AIContent> contents = ToolCallAssembler.ParseAll(text);
            Assert.DoesNotContain(contents.OfType<TextContent>(), t => t.Text.Contains("<tool_call>", StringComparison.Ordinal));
            FunctionCallContent[] calls = [.. contents.OfType<FunctionCallContent>()];
            Assert.Equal(constraint.Calls, calls.Length);
            Assert.All(calls, c => Assert.Equal("get_time", c.Name));
            if (choice != ToolChoice.Auto)
            {
                Assert.NotEmpty(calls);
                Assert.Empty(contents.OfType<TextContent>());
            }

            if (!multiple)
            {
                Assert.Single(calls);
            }
        }
    }
}
