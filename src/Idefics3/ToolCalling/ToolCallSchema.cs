using System.Text;
using System.Text.Json;

namespace Idefics3.ToolCalling;

/// <summary>
/// The JSON schema of one call's body: <c>{"name": {"const": N}, "arguments": &lt;N's parameter schema&gt;}</c>, an
/// <c>anyOf</c> over the callable tools when there are several. Each parameter schema is embedded unchanged except
/// that its <c>$schema</c> (and Semantic Kernel's empty <c>condition</c> annotation) is dropped, its local <c>$ref</c> pointers are rebased onto its new place, and object schemas
/// that list <c>properties</c> without saying anything about others get <c>"additionalProperties": false</c>.
/// </summary>
internal static class ToolCallSchema
{
    /// <summary>Builds the schema text for <paramref name="tools"/> (at least one).</summary>
    public static string Build(IReadOnlyList<ToolDefinition> tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        if (tools.Count == 0)
        {
            throw new ArgumentException("At least one tool is needed.", nameof(tools));
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, ToolCallProtocol.WriterOptions))
        {
            if (tools.Count == 1)
            {
                WriteCall(writer, tools[0], "#/properties/arguments");
            }
            else
            {
                writer.WriteStartObject();
                writer.WritePropertyName("anyOf");
                writer.WriteStartArray();
                for (int i = 0; i < tools.Count; i++)
                {
                    WriteCall(writer, tools[i], $"#/anyOf/{i}/properties/arguments");
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteCall(Utf8JsonWriter writer, ToolDefinition tool, string argumentsPointer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "object");
        writer.WritePropertyName("properties");
        writer.WriteStartObject();
        writer.WritePropertyName("name");
        writer.WriteStartObject();
        writer.WriteString("const", tool.Name);
        writer.WriteEndObject();
        writer.WritePropertyName("arguments");
        WriteRebased(writer, tool.ParametersSchema, argumentsPointer, root: true);
        writer.WriteEndObject();
        writer.WritePropertyName("required");
        writer.WriteStartArray();
        writer.WriteStringValue("name");
        writer.WriteStringValue("arguments");
        writer.WriteEndArray();
        writer.WriteBoolean("additionalProperties", false);
        writer.WriteEndObject();
    }

    private static void WriteRebased(Utf8JsonWriter writer, JsonElement element, string pointer, bool root)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                bool closed = false;
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    // "$schema" belongs to a document root; Semantic Kernel writes an empty "condition" annotation into the
                    // schema of a function without parameters (not a JSON Schema keyword, it constrains nothing).
                    if ((root && property.NameEquals("$schema")) || (property.NameEquals("condition") && property.Value.ValueKind == JsonValueKind.String))
                    {
                        continue;
                    }

                    closed |= property.NameEquals("additionalProperties");

                    writer.WritePropertyName(property.Name);
                    if (property.NameEquals("$ref") && property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() is { } target && target.StartsWith('#'))
                    {
                        writer.WriteStringValue(pointer + target[1..]);
                    }
                    else
                    {
                        WriteRebased(writer, property.Value, pointer, root: false);
                    }
                }

                // Arguments the function does not declare would be dropped by its binder: an object schema that lists its
                // properties and says nothing about others allows no others in a call (stricter than the schema, never looser).
                if (!closed && element.TryGetProperty("properties", out JsonElement properties) && properties.ValueKind == JsonValueKind.Object)
                {
                    writer.WriteBoolean("additionalProperties", false);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (JsonElement item in element.EnumerateArray())
                {
                    WriteRebased(writer, item, pointer, root: false);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
