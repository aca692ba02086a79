using System.Text.Json;
using Idefics3.Configuration;

namespace Idefics3.Tokenization;

/// <summary>Reads the BOS and EOS token texts of <c>tokenizer_config.json</c> (what chat templates see as <c>bos_token</c> / <c>eos_token</c>).</summary>
internal static class TokenizerConfigReader
{
    /// <summary>Parses the text of tokenizer_config.json.</summary>
    /// <param name="json">The JSON text, or null when the file is absent.</param>
    /// <returns>The BOS and EOS texts, each null when absent.</returns>
    /// <exception cref="ConfigurationException">The text is not JSON.</exception>
    public static (string? Bos, string? Eos) Read(string? json)
    {
        if (json is null)
        {
            return (null, null);
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            return (ReadTokenText(doc.RootElement, "bos_token"), ReadTokenText(doc.RootElement, "eos_token"));
        }
        catch (JsonException ex)
        {
            throw new ConfigurationException($"tokenizer_config.json: not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Reads a token given as a string or as an object with <c>content</c>.</summary>
    /// <param name="root">The root object.</param>
    /// <param name="name">The key.</param>
    /// <returns>The text, or null.</returns>
    public static string? ReadTokenText(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var node))
        {
            return null;
        }

        return node.ValueKind switch
        {
            JsonValueKind.String => node.GetString(),
            JsonValueKind.Object when node.TryGetProperty("content", out var c) => c.GetString(),
            _ => null,
        };
    }
}
