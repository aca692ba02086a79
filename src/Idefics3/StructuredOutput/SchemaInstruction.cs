using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Idefics3.Processing;

namespace Idefics3.StructuredOutput;

/// <summary>
/// The short system instruction that shows a response format to the model. The grammar makes the output valid, but
/// the model cannot see the grammar and Microsoft.Extensions.AI sends no schema text, so without this the model would
/// not know what the fields mean. The schema is shown compact, without <c>$schema</c>.
/// </summary>
internal static class SchemaInstruction
{
    /// <summary>Adds the instruction to a conversation: appended to its leading system message, or as a new one.</summary>
    public static void AddTo(IList<PromptMessage> conversation, JsonResponseFormat format)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        string text = For(format);
        if (conversation.Count > 0 && conversation[0].Role == "system")
        {
            conversation[0] = conversation[0] with { Contents = [.. conversation[0].Contents, new PromptText("\n\n" + text)] };
        }
        else
        {
            conversation.Insert(0, PromptMessage.FromText("system", text));
        }
    }

    /// <summary>The instruction text for a format.</summary>
    public static string For(JsonResponseFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (format.Schema is null)
        {
            return "Answer with a single JSON object and nothing else.";
        }

        var text = new StringBuilder("Answer with a single JSON value and nothing else");
        if (!string.IsNullOrWhiteSpace(format.Name))
        {
            text.Append(", a \"").Append(format.Name).Append('"');
        }

        if (!string.IsNullOrWhiteSpace(format.Description))
        {
            text.Append(" (").Append(format.Description.Trim()).Append(')');
        }

        text.Append(", that matches this JSON schema: ").Append(Compact(format.Schema));
        return text.ToString();
    }

    private static string Compact(string schema)
    {
        try
        {
            JsonNode? node = JsonNode.Parse(schema);
            if (node is JsonObject obj)
            {
                obj.Remove("$schema");
            }

            return node?.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? "null";
        }
        catch (JsonException)
        {
            return schema; // the compiler reports the malformed schema with a typed error
        }
    }
}
