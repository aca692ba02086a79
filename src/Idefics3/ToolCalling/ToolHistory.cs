using System.Collections;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Idefics3.ToolCalling;

/// <summary>
/// How earlier tool rounds are rendered back into the prompt: a call as the assistant's envelope text (byte for byte
/// what the model generated, when this library parsed it), a result as a <c>&lt;tool_response&gt;</c> block in a user
/// turn whose parts are text, JSON or images.
/// </summary>
internal static class ToolHistory
{
    /// <summary>The envelope text of <paramref name="call"/>.</summary>
    public static string CallText(FunctionCallContent call)
    {
        ArgumentNullException.ThrowIfNull(call);
        string body = call.RawRepresentation is GeneratedToolCall generated && CallName(generated.Body) == call.Name
            ? generated.Body
            : ToolCallProtocol.CallBody(call.Name, call.Arguments);
        return ToolCallProtocol.Envelope(body);
    }

    /// <summary>
    /// The parts of a tool result, in order: strings (text or JSON, rendered verbatim) and <see cref="AIContent"/> items
    /// (text, images) that the caller maps like message content.
    /// </summary>
    public static IEnumerable<object> ResultParts(FunctionResultContent result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Result is null && result.Exception is { } error)
        {
            yield return $"Error: {error.Message}";
            yield break;
        }

        foreach (object part in Parts(result.Result))
        {
            yield return part;
        }
    }

    private static IEnumerable<object> Parts(object? value)
    {
        switch (value)
        {
            case null:
                yield break;
            case string text:
                yield return text;
                break;
            case JsonElement { ValueKind: JsonValueKind.String } element:
                yield return element.GetString()!;
                break;
            case JsonElement element:
                yield return element.GetRawText();
                break;
            case AIContent content:
                yield return content;
                break;
            case IEnumerable<AIContent> contents:
                foreach (AIContent content in contents)
                {
                    yield return content;
                }

                break;
            case IEnumerable items when value is not IDictionary && IsContentList(items):
                foreach (object? item in items)
                {
                    yield return item!;
                }

                break;
            default:
                yield return JsonSerializer.Serialize(value, value.GetType(), ToolCallProtocol.SerializerOptions);
                break;
        }
    }

    private static bool IsContentList(IEnumerable items)
    {
        bool any = false;
        foreach (object? item in items)
        {
            if (item is not AIContent)
            {
                return false;
            }

            any = true;
        }

        return any;
    }

    private static string? CallName(string body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("name", out JsonElement name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
