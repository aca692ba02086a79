using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Idefics3.ToolCalling;

/// <summary>
/// Turns the model's output text into response content: text stays <see cref="TextContent"/>, each closed
/// <c>&lt;tool_call&gt;...&lt;/tool_call&gt;</c> becomes a <see cref="FunctionCallContent"/> with a fresh call id. Fed in
/// deltas (streaming) or in one piece (non-streaming) it yields the same content: text that could still be the start
/// of an envelope (and the whitespace before it) is held back until the next delta decides, and a call is emitted
/// when it closes, so no protocol markup reaches the caller. Whitespace between or after calls is the protocol's
/// separator and is dropped; an envelope still open at the end (the token budget ran out) is returned as text.
/// One instance per response; not thread-safe.
/// </summary>
internal sealed class ToolCallAssembler
{
    private readonly StringBuilder _pending = new();
    private bool _inCall;

    /// <summary>Gets how many calls have been emitted.</summary>
    public int CallCount { get; private set; }

    /// <summary>Parses one complete output (the non-streaming path).</summary>
    public static List<AIContent> ParseAll(string text)
    {
        var assembler = new ToolCallAssembler();
        List<AIContent> contents = assembler.Append(text);
        contents.AddRange(assembler.Flush());
        return contents;
    }

    /// <summary>Adds generated text; returns the content that is now certain, in order.</summary>
    public List<AIContent> Append(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        _pending.Append(delta);
        var output = new List<AIContent>();
        while (true)
        {
            string pending = _pending.ToString();
            if (_inCall)
            {
                // The closing tag counts only after the call's JSON object: a string argument may itself contain it.
                int close = pending.IndexOf(ToolCallProtocol.CallClose, JsonObjectEnd(pending), StringComparison.Ordinal);
                if (close < 0)
                {
                    return output;
                }

                output.Add(ParseCall(pending[..close]));
                CallCount++;
                _inCall = false;
                Replace(pending[(close + ToolCallProtocol.CallClose.Length)..]);
                continue;
            }

            int open = pending.IndexOf(ToolCallProtocol.CallOpen, StringComparison.Ordinal);
            if (open >= 0)
            {
                // The whitespace before a call separates it from the text (or from the previous call): protocol, not text.
                AddText(output, pending[..open].TrimEnd());
                _inCall = true;
                Replace(pending[(open + ToolCallProtocol.CallOpen.Length)..]);
                continue;
            }

            int held = HeldBack(pending);
            AddText(output, pending[..held]);
            Replace(pending[held..]);
            return output;
        }
    }

    /// <summary>
    /// Where the JSON object that opens <paramref name="body"/> ends (outside strings, at depth zero); the text's length
    /// while it has not ended yet, and 0 when the body does not start with an object (nothing to skip).
    /// </summary>
    private static int JsonObjectEnd(string body)
    {
        int i = 0;
        while (i < body.Length && char.IsWhiteSpace(body[i]))
        {
            i++;
        }

        if (i == body.Length || body[i] != '{')
        {
            return 0;
        }

        int depth = 0;
        bool inString = false;
        for (; i < body.Length; i++)
        {
            char c = body[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c == '"')
            {
                inString = true;
            }
            else if (c is '{' or '[')
            {
                depth++;
            }
            else if (c is '}' or ']' && --depth == 0)
            {
                return i + 1;
            }
        }

        return body.Length;
    }

    /// <summary>Ends the output; returns what was held back.</summary>
    public List<AIContent> Flush()
    {
        var output = new List<AIContent>();
        string pending = _pending.ToString();
        _pending.Clear();
        if (_inCall)
        {
            // An unfinished call (the budget ran out inside it) is not a call: the raw output is returned as text.
            AddText(output, ToolCallProtocol.CallOpen + pending);
            _inCall = false;
        }
        else if (!(CallCount > 0 && string.IsNullOrWhiteSpace(pending)))
        {
            AddText(output, pending);
        }

        return output;
    }

    /// <summary>Where the text that must wait starts: a suffix that begins the call envelope, with the whitespace before it.</summary>
    private static int HeldBack(string pending)
    {
        int start = pending.Length;
        string open = ToolCallProtocol.CallOpen;
        for (int length = Math.Min(open.Length - 1, pending.Length); length > 0; length--)
        {
            if (string.CompareOrdinal(pending, pending.Length - length, open, 0, length) == 0)
            {
                start = pending.Length - length;
                break;
            }
        }

        while (start > 0 && char.IsWhiteSpace(pending[start - 1]))
        {
            start--;
        }

        return start;
    }

    private void Replace(string rest)
    {
        _pending.Clear();
        _pending.Append(rest);
    }

    private static void AddText(List<AIContent> output, string text)
    {
        if (text.Length > 0)
        {
            output.Add(new TextContent(text));
        }
    }

    private static AIContent ParseCall(string body)
    {
        string callId = $"call_{Guid.NewGuid():N}";
        string? name = null;
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            JsonElement root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("name", out JsonElement nameElement) && nameElement.ValueKind == JsonValueKind.String)
            {
                name = nameElement.GetString();
            }

            if (name is null)
            {
                throw new JsonException("The call has no \"name\" string.");
            }

            if (!root.TryGetProperty("arguments", out JsonElement arguments) || arguments.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException($"The call of '{name}' has no \"arguments\" object.");
            }

            var parsed = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (JsonProperty argument in arguments.EnumerateObject())
            {
                parsed[argument.Name] = argument.Value.Clone();
            }

            return new FunctionCallContent(callId, name, parsed) { RawRepresentation = new GeneratedToolCall(body) };
        }
        catch (JsonException error) when (name is not null)
        {
            // Only reachable without the call grammar: a named call whose JSON is broken goes to the invoker with the
            // error, as Microsoft.Extensions.AI's own clients report unparsable arguments.
            return new FunctionCallContent(callId, name) { Exception = error, RawRepresentation = new GeneratedToolCall(body) };
        }
        catch (JsonException)
        {
            return new TextContent(ToolCallProtocol.Envelope(body));
        }
    }
}
