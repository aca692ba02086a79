using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Idefics3.StructuredOutput;
using Microsoft.Extensions.AI;

namespace Idefics3.Tests.StructuredOutput;

/// <summary>
/// Random walks under the constraint on both real vocabularies, for a corpus of C# types whose schemas MEAI builds
/// (<c>ChatResponseFormat.ForJsonSchema&lt;T&gt;()</c>): every output is valid UTF-8, parses, validates against the
/// schema with JsonSchema.Net and deserializes to T.
/// </summary>
public class StructuredOutputPropertyTests
{
    private const int Samples = 4;
    private const int Budget = 400;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string vocabulary in new[] { "smolvlm", "llama3" })
        {
            foreach (string type in s_types.Keys)
            {
                data.Add(vocabulary, type);
            }
        }

        return data;
    }

    private static readonly Dictionary<string, (ChatResponseFormatJson Format, Type Type)> s_types = new()
    {
        ["Invoice"] = (ChatResponseFormat.ForJsonSchema<Invoice>(), typeof(Invoice)),
        ["Contact"] = (ChatResponseFormat.ForJsonSchema<Contact>(), typeof(Contact)),
        ["TreeNode"] = (ChatResponseFormat.ForJsonSchema<TreeNode>(), typeof(TreeNode)),
        ["LinkedNode"] = (ChatResponseFormat.ForJsonSchema<LinkedNode>(), typeof(LinkedNode)),
        ["Shape"] = (ChatResponseFormat.ForJsonSchema<Shape>(), typeof(Shape)),
        ["Drawing"] = (ChatResponseFormat.ForJsonSchema<Drawing>(), typeof(Drawing)),
        ["Inventory"] = (ChatResponseFormat.ForJsonSchema<Inventory>(), typeof(Inventory)),
        ["Annotated"] = (ChatResponseFormat.ForJsonSchema<Annotated>(), typeof(Annotated)),
        ["Loose"] = (ChatResponseFormat.ForJsonSchema<Loose>(), typeof(Loose)),
        ["Wrapped"] = (ChatResponseFormat.ForJsonSchema<Wrapped>(), typeof(Wrapped)),
        ["Currency"] = (ChatResponseFormat.ForJsonSchema<Currency>(), typeof(Currency)),
        ["List<Currency?>"] = (ChatResponseFormat.ForJsonSchema<List<Currency?>>(), typeof(List<Currency?>)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_sample_is_utf8_parses_validates_and_deserializes(string vocabulary, string typeName)
    {
        var (format, type) = s_types[typeName];
        string schemaText = format.Schema!.Value.GetRawText();
        var (_, index) = StructuredOutputFixtures.Vocabulary(vocabulary);
        var matcher = new ByteMatcher(JsonSchemaCompiler.Compile(schemaText));
        var validator = Json.Schema.JsonSchema.FromText(schemaText, new Json.Schema.BuildOptions());
        for (int seed = 0; seed < Samples; seed++)
        {
            var constraint = new JsonTokenConstraint(matcher, index);
            var (bytes, complete, _) = ConstrainedSampler.Sample(constraint, index, new Random((seed * 7919) + typeName.Length), Budget, extraLogits: 3);
            string shown = Encoding.UTF8.GetString(bytes);
            Assert.True(complete, $"incomplete within {Budget} tokens: {shown}");
            Assert.True(Utf8.IsValid(bytes), shown);
            using JsonDocument doc = JsonDocument.Parse(bytes);
            var result = validator.Evaluate(doc.RootElement, new Json.Schema.EvaluationOptions { OutputFormat = Json.Schema.OutputFormat.List });
            Assert.True(result.IsValid, $"{shown}\n{string.Join("\n", result.Details?.Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")) ?? [])}");
            object? value = JsonSerializer.Deserialize(bytes, type, AIJsonUtilities.DefaultOptions);
            Assert.NotNull(value);
        }
    }

    [Theory]
    [InlineData("smolvlm")]
    [InlineData("llama3")]
    public void The_index_keeps_special_and_end_tokens_out_and_maps_bytes_back(string vocabulary)
    {
        var (tokenizer, index) = StructuredOutputFixtures.Vocabulary(vocabulary);
        Assert.Equal(tokenizer.VocabularySize, index.VocabularySize);
        foreach (var added in tokenizer.AddedTokens)
        {
            Assert.Null(index.BytesOf(added.Id));
        }

        foreach (int end in index.EndTokenIds)
        {
            Assert.Null(index.BytesOf(end));
        }

        // A multi-byte word round-trips through the byte alphabet: the ids of "Zoë café" spell its UTF-8 bytes.
        int[] ids = tokenizer.Encode("Zoë café \"x\"\n");
        byte[] joined = ids.SelectMany(id => index.BytesOf(id)!).ToArray();
        Assert.Equal(Encoding.UTF8.GetBytes("Zoë café \"x\"\n"), joined);
        Assert.True(index.PlainCount > tokenizer.VocabularySize / 2);
    }

    [Fact]
    public void Json_object_format_samples_are_objects_on_both_vocabularies()
    {
        foreach (string vocabulary in new[] { "smolvlm", "llama3" })
        {
            var (_, index) = StructuredOutputFixtures.Vocabulary(vocabulary);
            var matcher = new ByteMatcher(JsonSchemaCompiler.AnyObject());
            for (int seed = 0; seed < Samples; seed++)
            {
                var (bytes, complete, _) = ConstrainedSampler.Sample(new JsonTokenConstraint(matcher, index), index, new Random(seed), Budget);
                Assert.True(complete);
                using JsonDocument doc = JsonDocument.Parse(bytes);
                Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            }
        }
    }
}
