using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Idefics3.ToolCalling;

/// <summary>
/// The one tool-calling protocol of this library (Idefics3 and SmolVLM have no native tool format). A call is
/// <c>&lt;tool_call&gt;{"name":"N","arguments":{...}}&lt;/tool_call&gt;</c> in the assistant's text, several calls one per
/// line; a result comes back in a user turn as <c>&lt;tool_response name="N"&gt;...&lt;/tool_response&gt;</c> (text and
/// images inside). Documented in docs/chat-surfaces.md.
/// </summary>
internal static class ToolCallProtocol
{
    /// <summary>Opens a call in the assistant's output.</summary>
    public const string CallOpen = "<tool_call>";

    /// <summary>Closes a call.</summary>
    public const string CallClose = "</tool_call>";

    /// <summary>Separates consecutive calls.</summary>
    public const string CallSeparator = "\n";

    /// <summary>Closes a tool result in a user turn.</summary>
    public const string ResponseClose = "</tool_response>";

    /// <summary>Separates consecutive tool results in one user turn.</summary>
    public const string ResponseSeparator = "\n";

    /// <summary>Compact JSON with non-ASCII text kept as is (what the model reads).</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <summary>Serializer options for argument values: compact, non-ASCII kept.</summary>
    public static readonly JsonSerializerOptions SerializerOptions = new(Microsoft.Extensions.AI.AIJsonUtilities.DefaultOptions)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    /// <summary>Opens a tool result for <paramref name="name"/>.</summary>
    public static string ResponseOpen(string name) => $"<tool_response name=\"{name}\">";

    /// <summary>The JSON body of a call: <c>{"name":"N","arguments":{...}}</c>.</summary>
    public static string CallBody(string name, IDictionary<string, object?>? arguments)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WritePropertyName("arguments");
            JsonSerializer.Serialize(writer, arguments ?? new Dictionary<string, object?>(), SerializerOptions);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>A whole call envelope.</summary>
    public static string Envelope(string body) => CallOpen + body + CallClose;
}
