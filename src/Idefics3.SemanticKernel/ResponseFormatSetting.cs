using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Idefics3.SemanticKernel;

/// <summary>
/// Maps the <c>response_format</c> execution setting, in the forms Semantic Kernel's connectors accept, to the form
/// Semantic Kernel's IChatClient bridge passes on as <see cref="ChatOptions.ResponseFormat"/>: the string
/// <c>"json_object"</c> or <c>"text"</c>, or a JSON schema element.
/// </summary>
internal static class ResponseFormatSetting
{
    /// <summary>The bridge's form of a <c>response_format</c> value.</summary>
    /// <param name="value">"json_object", "text", a JSON schema (element or text), OpenAI's <c>{"type":"json_schema","json_schema":{"schema":...}}</c>, a <see cref="Type"/> or a <see cref="ChatResponseFormat"/>.</param>
    /// <exception cref="ArgumentException">The value is none of those.</exception>
    public static object ToBridgeValue(object value) => value switch
    {
        string text => FromText(text),
        JsonElement element => FromElement(element),
        Type type => AIJsonUtilities.CreateJsonSchema(type),
        ChatResponseFormatText => "text",
        ChatResponseFormatJson json => json.Schema is { } schema ? schema : "json_object",
        _ => throw new ArgumentException(
            $"The response_format setting of type {value.GetType().Name} is not supported; use \"json_object\", \"text\", a JSON schema, a Type or a ChatResponseFormat.", nameof(value)),
    };

    private static object FromText(string text)
    {
        if (text is "json_object" or "text")
        {
            return text;
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(text);
            return FromElement(doc.RootElement.Clone());
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"The response_format setting '{text}' is neither \"json_object\", \"text\" nor a JSON schema.", nameof(text), ex);
        }
    }

    private static object FromElement(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            return FromText(element.GetString()!);
        }

        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String)
        {
            switch (type.GetString())
            {
                case "json_object":
                    return "json_object";
                case "text":
                    return "text";
                case "json_schema" when element.TryGetProperty("json_schema", out JsonElement wrapper) && wrapper.TryGetProperty("schema", out JsonElement schema):
                    return schema.Clone(); // OpenAI's shape
            }
        }

        return element.Clone();
    }
}
