using System.Text;
using System.Text.Json;

namespace Idefics3.ToolCalling;

/// <summary>
/// The system instruction that shows the tools to the model: one compact JSON line per tool (name, description,
/// parameter schema) and the call and result envelopes. It depends only on the tool list, never on the tool mode, so
/// every round of a tool loop renders the same prompt prefix and reuses its KV cache.
/// </summary>
internal static class ToolPrompt
{
    /// <summary>Schema keywords left out of the prompt: they tell the model nothing about the arguments.</summary>
    private static readonly HashSet<string> Omitted = new(StringComparer.Ordinal) { "$schema", "$id", "$comment", "title" };

    /// <summary>Builds the instruction for <paramref name="tools"/>.</summary>
    public static string Build(ToolSet tools)
    {
        var text = new StringBuilder();
        text.Append("You can call tools. Each line between <tools> and </tools> describes one tool as JSON: its name, what it does and the JSON schema of its arguments.\n<tools>\n");
        foreach (ToolDefinition tool in tools.Tools)
        {
            text.Append(Describe(tool)).Append('\n');
        }

        text.Append("</tools>\n");
        text.Append("To call a tool, answer with ")
            .Append(ToolCallProtocol.Envelope("{\"name\":\"<tool name>\",\"arguments\":{<arguments as JSON>}}"))
            .Append(", one call per line. Each result comes back as <tool_response name=\"<tool name>\">...</tool_response>; then answer the user.");
        return text.ToString();
    }

    private static string Describe(ToolDefinition tool)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, ToolCallProtocol.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("name", tool.Name);
            if (tool.Description.Length > 0)
            {
                writer.WriteString("description", tool.Description);
            }

            writer.WritePropertyName("parameters");
            WriteCompact(writer, tool.ParametersSchema, root: true);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteCompact(Utf8JsonWriter writer, JsonElement schema, bool root)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            schema.WriteTo(writer);
            return;
        }

        writer.WriteStartObject();
        foreach (JsonProperty property in schema.EnumerateObject())
        {
            if (root && Omitted.Contains(property.Name))
            {
                continue;
            }

            writer.WritePropertyName(property.Name);
            property.Value.WriteTo(writer);
        }

        writer.WriteEndObject();
    }
}
