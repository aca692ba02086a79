using System.Text.Json;

namespace Idefics3.Templates;

/// <summary>
/// A Hugging Face chat template (Jinja source from <c>chat_template.json</c> or <c>tokenizer_config.json</c>) compiled
/// by a small Jinja-subset interpreter. Rendering follows Hugging Face's environment (<c>trim_blocks</c> and
/// <c>lstrip_blocks</c> on). Supported: text, <c>{{ }}</c>, <c>{% if/elif/else %}</c>, <c>{% for %}</c> (with
/// <c>loop.*</c>, <c>else</c>, an <c>if</c> filter and tuple targets), <c>{% set %}</c> (also block form and
/// <c>namespace()</c> attributes), whitespace control, comments, comparisons, <c>in</c>/<c>not in</c>,
/// <c>and</c>/<c>or</c>/<c>not</c>, <c>is</c> tests, arithmetic, <c>~</c>, indexing and slicing, attribute access,
/// inline <c>if/else</c>, common filters (capitalize, trim, length, lower, upper, default, join, tojson, ...) and string
/// methods (<c>.capitalize()</c>, <c>.strip()</c>, ...), <c>range</c>, <c>namespace</c> and <c>raise_exception</c>.
/// Anything else throws a <see cref="TemplateException"/> naming the construct and its position.
/// </summary>
internal sealed class ChatTemplate
{
    private readonly List<Node> _nodes;

    private ChatTemplate(string source, List<Node> nodes)
    {
        Source = source;
        _nodes = nodes;
    }

    /// <summary>Gets the Jinja source.</summary>
    public string Source { get; }

    /// <summary>Parses a template.</summary>
    /// <param name="source">The Jinja source.</param>
    /// <returns>The compiled template.</returns>
    /// <exception cref="TemplateException">Syntax error or unsupported construct.</exception>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var tokens = JinjaLexer.Tokenize(source, trimBlocks: true, lstripBlocks: true);
        return new ChatTemplate(source, new JinjaParser(tokens, source).ParseTemplate());
    }

    /// <summary>
    /// Loads the template of a model folder: <c>chat_template.json</c> (or <c>chat_template.jinja</c>) first, else the
    /// <c>chat_template</c> string of <c>tokenizer_config.json</c>; null when there is none.
    /// </summary>
    /// <param name="directory">The model folder.</param>
    /// <returns>The template, or null.</returns>
    public static ChatTemplate? FromDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string jinja = Path.Combine(directory, "chat_template.jinja");
        if (File.Exists(jinja))
        {
            return Parse(Configuration.ModelFile.ReadText(jinja));
        }

        foreach (string file in new[] { "chat_template.json", "tokenizer_config.json" })
        {
            string path = Path.Combine(directory, file);
            if (!File.Exists(path))
            {
                continue;
            }

            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(Configuration.ModelFile.ReadText(path));
            }
            catch (JsonException ex)
            {
                throw new Configuration.ConfigurationException(file, "$", "not valid JSON: " + ex.Message, ex);
            }

            using var owned = doc;
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("chat_template", out var ct))
            {
                if (ct.ValueKind == JsonValueKind.String)
                {
                    return Parse(ct.GetString()!);
                }

                if (ct.ValueKind == JsonValueKind.Array)
                {
                    foreach (var named in ct.EnumerateArray())
                    {
                        if (named.ValueKind == JsonValueKind.Object && named.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String &&
                            n.GetString() == "default" && named.TryGetProperty("template", out var t) && t.ValueKind == JsonValueKind.String)
                        {
                            return Parse(t.GetString()!);
                        }
                    }
                }
            }
        }

        return null;
    }

    /// <summary>Renders the template with arbitrary variables (plain .NET values: string, bool, long/int, double, lists, dictionaries).</summary>
    /// <param name="variables">Template variables, for example <c>messages</c> and <c>add_generation_prompt</c>.</param>
    /// <returns>The rendered text.</returns>
    /// <exception cref="TemplateException">A runtime error, a <c>raise_exception</c> call, or a limit of the
    /// interpreter exceeded (see docs/errors-and-limits.md).</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables) => Render(variables, CancellationToken.None);

    /// <summary>Renders the template with arbitrary variables, honouring cancellation between statements and loop iterations.</summary>
    /// <param name="variables">Template variables, for example <c>messages</c> and <c>add_generation_prompt</c>.</param>
    /// <param name="cancellationToken">Stops the rendering.</param>
    /// <returns>The rendered text.</returns>
    /// <exception cref="TemplateException">A runtime error, a <c>raise_exception</c> call, or a limit of the
    /// interpreter exceeded (see docs/errors-and-limits.md).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var globals = variables.ToDictionary(kv => kv.Key, kv => Normalize(kv.Value), StringComparer.Ordinal);
        return new JinjaRuntime(Source, globals, cancellationToken).Render(_nodes);
    }

    /// <summary>Renders messages given as JSON (an array of <c>{"role", "content"}</c> objects, as in Hugging Face).</summary>
    /// <param name="messagesJson">The messages JSON array.</param>
    /// <param name="addGenerationPrompt">The <c>add_generation_prompt</c> variable.</param>
    /// <returns>The rendered text.</returns>
    public string RenderJson(string messagesJson, bool addGenerationPrompt)
    {
        ArgumentNullException.ThrowIfNull(messagesJson);
        using var doc = JsonDocument.Parse(messagesJson);
        return Render(new Dictionary<string, object?>
        {
            ["messages"] = JinjaRuntime.FromJson(doc.RootElement),
            ["add_generation_prompt"] = addGenerationPrompt,
        });
    }

    private static object? Normalize(object? value) => value switch
    {
        null or string or bool or long or double => value,
        int i => (long)i,
        float f => (double)f,
        JsonElement e => JinjaRuntime.FromJson(e),
        IDictionary<string, object?> d => d.ToDictionary(kv => kv.Key, kv => Normalize(kv.Value), StringComparer.Ordinal),
        System.Collections.IEnumerable list => list.Cast<object?>().Select(Normalize).ToList(),
        _ => value.ToString(),
    };
}
