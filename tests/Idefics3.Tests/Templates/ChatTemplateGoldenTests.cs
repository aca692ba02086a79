using System.Text.Json;
using Idefics3.Templates;
using Idefics3.Tests;

namespace Idefics3.Tests.Templates;

public class ChatTemplateGoldenTests
{
    public static TheoryData<int> RenderedCases()
    {
        using var doc = TestFixtures.Json("chat-template", "chat_template_golden.json");
        var data = new TheoryData<int>();
        int i = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("rendered").ValueKind == JsonValueKind.String)
            {
                data.Add(i);
            }

            i++;
        }

        return data;
    }

    private static JsonElement Case(int index)
    {
        using var doc = TestFixtures.Json("chat-template", "chat_template_golden.json");
        return doc.RootElement.GetProperty("cases")[index].Clone();
    }

    private static ChatTemplate Idefics3Template()
    {
        using var doc = TestFixtures.Json("chat-template", "chat_template_golden.json");
        return ChatTemplate.Parse(doc.RootElement.GetProperty("meta").GetProperty("chat_template").GetString()!);
    }

    [Theory]
    [MemberData(nameof(RenderedCases))]
    public void Idefics3_template_renders_exactly_like_hugging_face(int index)
    {
        var c = Case(index);
        string rendered = Idefics3Template().RenderJson(c.GetProperty("messages").GetRawText(), c.GetProperty("add_generation_prompt").GetBoolean());
        Assert.Equal(c.GetProperty("rendered").GetString(), rendered);
    }

    [Theory]
    [MemberData(nameof(RenderedCases))]
    public void Rendered_prompt_tokenizes_to_the_golden_ids_with_a_single_bos(int index)
    {
        var c = Case(index);
        string rendered = Idefics3Template().RenderJson(c.GetProperty("messages").GetRawText(), c.GetProperty("add_generation_prompt").GetBoolean());
        Assert.Equal(TestFixtures.Ints(c.GetProperty("input_ids_add_special_tokens_false")), TestFixtures.Llama3Tokenizer.Encode(rendered));
    }

    [Fact]
    public void Plain_string_content_renders_like_python_jinja2()
    {
        var c = Case(10);
        string rendered = Idefics3Template().RenderJson(c.GetProperty("messages").GetRawText(), true);
        Assert.Equal(c.GetProperty("expected_python_jinja2_by_reasoning").GetString(), rendered);
    }

    [Fact]
    public void Filter_and_method_spellings_of_the_template_render_the_same()
    {
        var filterForm = ChatTemplate.FromDirectory(TestFixtures.TinyModelDirectory)!;
        Assert.Contains("| capitalize", filterForm.Source, StringComparison.Ordinal);
        for (int i = 0; i < 10; i++)
        {
            var c = Case(i);
            string messages = c.GetProperty("messages").GetRawText();
            bool gen = c.GetProperty("add_generation_prompt").GetBoolean();
            Assert.Equal(Idefics3Template().RenderJson(messages, gen), filterForm.RenderJson(messages, gen));
        }
    }

    [Fact]
    public void Template_is_read_from_tokenizer_config_when_chat_template_json_is_absent()
    {
        string dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            File.Copy(TestFixtures.PathOf("llama3", "tokenizer_config.json"), Path.Combine(dir, "tokenizer_config.json"));
            var template = ChatTemplate.FromDirectory(dir)!;
            Assert.Equal(Case(0).GetProperty("rendered").GetString(), template.RenderJson(Case(0).GetProperty("messages").GetRawText(), true));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
