using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Idefics3.StructuredOutput;

/// <summary>
/// Compiles a JSON schema (draft 2020-12 as Microsoft.Extensions.AI's exporter writes it) into a <see cref="JsonGrammar"/>.
/// The grammar may be stricter than the schema, never looser: every document it accepts validates against the schema.
/// Keywords it does not understand are rejected with <see cref="StructuredOutputSchemaException"/> naming the keyword.
/// </summary>
internal sealed class JsonSchemaCompiler
{
    private static readonly HashSet<string> s_ignored = new(StringComparer.Ordinal)
    {
        "description", "title", "default", "$comment", "$schema", "examples", "readOnly", "writeOnly", "deprecated",
        "$defs", "definitions", "$id",
    };

    private static readonly JsonSerializerOptions s_relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] s_allTypes = ["object", "array", "string", "number", "boolean", "null"];

    private readonly GrammarOptions _options;
    private readonly JsonElement _document;
    private readonly Dictionary<string, GrammarNode> _byPath = new(StringComparer.Ordinal);
    private readonly List<GrammarNode> _nodes = [];
    private GrammarNode? _any;

    private JsonSchemaCompiler(JsonElement document, GrammarOptions options)
    {
        _document = document;
        _options = options;
    }

    /// <summary>Compiles schema text.</summary>
    /// <param name="schemaJson">The schema as JSON text.</param>
    /// <param name="options">Limits; null for <see cref="GrammarOptions.Default"/>.</param>
    /// <exception cref="StructuredOutputSchemaException">The text is not JSON, uses an unsupported keyword, or allows nothing.</exception>
    public static JsonGrammar Compile(string schemaJson, GrammarOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(schemaJson);
        options ??= GrammarOptions.Default;
        if (schemaJson.Length > options.MaxSchemaLength)
        {
            throw new StructuredOutputSchemaException($"The JSON schema is {schemaJson.Length} characters long; at most {options.MaxSchemaLength} are supported.", null, "#");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(schemaJson, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            throw new StructuredOutputSchemaException($"The JSON schema is not valid JSON: {ex.Message}", ex);
        }

        using (doc)
        {
            return Compile(doc.RootElement, options);
        }
    }

    /// <summary>Compiles a schema element.</summary>
    /// <param name="schema">The schema.</param>
    /// <param name="options">Limits; null for <see cref="GrammarOptions.Default"/>.</param>
    /// <exception cref="StructuredOutputSchemaException">The schema uses an unsupported keyword or allows nothing.</exception>
    public static JsonGrammar Compile(JsonElement schema, GrammarOptions? options = null)
    {
        options ??= GrammarOptions.Default;
        var compiler = new JsonSchemaCompiler(schema.Clone(), options);
        GrammarNode root = compiler.CompileAt(compiler._document, "#");
        compiler.Finish();
        if (root.MinBytes == int.MaxValue)
        {
            throw new StructuredOutputSchemaException("The JSON schema allows no value (for example an empty enum, a false schema, or a required recursion without end).", null, "#");
        }

        return new JsonGrammar(root, options, compiler._nodes.Count);
    }

    /// <summary>The grammar of <c>ChatResponseFormat.Json</c>: any JSON object.</summary>
    /// <param name="options">Limits; null for <see cref="GrammarOptions.Default"/>.</param>
    public static JsonGrammar AnyObject(GrammarOptions? options = null)
    {
        options ??= GrammarOptions.Default;
        var compiler = new JsonSchemaCompiler(default, options);
        compiler.Any();
        GrammarNode root = compiler._any!.Alternatives[0];
        compiler.Finish();
        return new JsonGrammar(root, options, compiler._nodes.Count);
    }

    private GrammarNode NewNode(string path)
    {
        if (_nodes.Count >= _options.MaxNodes)
        {
            throw new StructuredOutputSchemaException($"The JSON schema is too large: more than {_options.MaxNodes} grammar nodes.", null, path);
        }

        var node = new GrammarNode { Path = path };
        _nodes.Add(node);
        return node;
    }

    private GrammarNode CompileAt(JsonElement schema, string path)
    {
        if (_byPath.TryGetValue(path, out GrammarNode? known))
        {
            return known;
        }

        if (schema.ValueKind == JsonValueKind.True)
        {
            return _byPath[path] = Any();
        }

        if (schema.ValueKind == JsonValueKind.False)
        {
            return _byPath[path] = Never(path);
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new StructuredOutputSchemaException($"A schema must be an object or a boolean, not {schema.ValueKind}.", null, path);
        }

        if (schema.TryGetProperty("$ref", out JsonElement reference))
        {
            foreach (JsonProperty p in schema.EnumerateObject())
            {
                if (p.Name != "$ref" && !s_ignored.Contains(p.Name))
                {
                    throw new StructuredOutputSchemaException($"The keyword '{p.Name}' beside '$ref' at {path} is not supported.", p.Name, path);
                }
            }

            string pointer = reference.GetString() ?? string.Empty;
            JsonElement target = Resolve(pointer, path);
            GrammarNode resolved = CompileAt(target, NormalizePointer(pointer));
            _byPath[path] = resolved;
            return resolved;
        }

        GrammarNode node = NewNode(path);
        _byPath[path] = node;
        Fill(node, schema, path);
        return node;
    }

    private void Fill(GrammarNode node, JsonElement schema, string path)
    {
        foreach (JsonProperty p in schema.EnumerateObject())
        {
            if (!s_ignored.Contains(p.Name) && !IsSupported(p.Name))
            {
                throw new StructuredOutputSchemaException($"The JSON schema keyword '{p.Name}' at {path} is not supported for structured output.", p.Name, path);
            }
        }

        if (schema.TryGetProperty("anyOf", out JsonElement anyOf))
        {
            FillAnyOf(node, schema, anyOf, path);
            return;
        }

        HashSet<string> types = TypesOf(schema, path);
        if (schema.TryGetProperty("enum", out JsonElement enumValues) || schema.TryGetProperty("const", out _))
        {
            FillLiterals(node, schema, types, path);
            return;
        }

        if (types.Contains("number"))
        {
            types.Remove("integer");
        }

        if (types.Count == s_allTypes.Length)
        {
            // No constraint on the type: any JSON value (the keywords that apply to one type only were checked above).
            if (!HasTypeSpecificKeywords(schema))
            {
                node.Kind = GrammarNodeKind.AnyOf;
                node.Alternatives = Any().Alternatives;
                return;
            }

            types = InferTypes(schema);
        }

        if (types.Count == 1)
        {
            FillType(node, schema, types.First(), path);
            return;
        }

        node.Kind = GrammarNodeKind.AnyOf;
        node.Alternatives = [.. types.Order(StringComparer.Ordinal).Select(t =>
        {
            GrammarNode alt = NewNode(path);
            FillType(alt, schema, t, path);
            return alt;
        })];
    }

    private static bool IsSupported(string keyword) => keyword is "type" or "properties" or "required" or "additionalProperties"
        or "items" or "minItems" or "maxItems" or "enum" or "const" or "anyOf" or "format" or "pattern" or "minLength"
        or "maxLength" or "minimum" or "maximum" or "exclusiveMinimum" or "exclusiveMaximum";

    private static bool HasTypeSpecificKeywords(JsonElement schema) => InferTypes(schema).Count > 0;

    private static HashSet<string> InferTypes(JsonElement schema)
    {
        var types = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty p in schema.EnumerateObject())
        {
            switch (p.Name)
            {
                case "properties" or "required" or "additionalProperties":
                    types.Add("object");
                    break;
                case "items" or "minItems" or "maxItems":
                    types.Add("array");
                    break;
                case "format" or "pattern" or "minLength" or "maxLength":
                    types.Add("string");
                    break;
                case "minimum" or "maximum" or "exclusiveMinimum" or "exclusiveMaximum":
                    types.Add("number");
                    break;
            }
        }

        return types;
    }

    private static HashSet<string> TypesOf(JsonElement schema, string path)
    {
        var types = new HashSet<string>(StringComparer.Ordinal);
        if (!schema.TryGetProperty("type", out JsonElement type))
        {
            types.UnionWith(s_allTypes);
            return types;
        }

        IEnumerable<JsonElement> items = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray() : [type];
        foreach (JsonElement t in items)
        {
            string? name = t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (name is not ("object" or "array" or "string" or "number" or "integer" or "boolean" or "null"))
            {
                throw new StructuredOutputSchemaException($"The type '{t.GetRawText()}' at {path} is not a JSON schema type.", "type", path);
            }

            types.Add(name);
        }

        return types;
    }

    private void FillAnyOf(GrammarNode node, JsonElement schema, JsonElement anyOf, string path)
    {
        if (anyOf.ValueKind != JsonValueKind.Array)
        {
            throw new StructuredOutputSchemaException($"'anyOf' at {path} must be an array.", "anyOf", path);
        }

        var baseObject = JsonNode.Parse(schema.GetRawText())!.AsObject();
        baseObject.Remove("anyOf");
        bool trivialBase = baseObject.All(p => s_ignored.Contains(p.Key));
        var alternatives = new List<GrammarNode>();
        int i = 0;
        foreach (JsonElement alt in anyOf.EnumerateArray())
        {
            string altPath = $"{path}/anyOf/{i++}";
            if (trivialBase)
            {
                alternatives.Add(CompileAt(alt, altPath));
                continue;
            }

            JsonElement merged = Merge(baseObject, alt, altPath);
            alternatives.Add(CompileAt(merged, altPath + "+base"));
        }

        node.Kind = GrammarNodeKind.AnyOf;
        node.Alternatives = [.. alternatives];
    }

    private static JsonElement Merge(JsonObject baseObject, JsonElement alt, string path)
    {
        if (alt.ValueKind == JsonValueKind.False)
        {
            return alt;
        }

        var merged = (JsonObject)baseObject.DeepClone();
        if (alt.ValueKind == JsonValueKind.Object)
        {
            if (alt.TryGetProperty("$ref", out _))
            {
                throw new StructuredOutputSchemaException($"An 'anyOf' alternative with '$ref' beside other keywords at {path} is not supported.", "$ref", path);
            }

            foreach (JsonProperty p in alt.EnumerateObject())
            {
                JsonNode? value = JsonNode.Parse(p.Value.GetRawText());
                if (!merged.TryGetPropertyValue(p.Name, out JsonNode? existing) || s_ignored.Contains(p.Name))
                {
                    merged[p.Name] = value;
                }
                else if (p.Name == "properties")
                {
                    var props = existing!.AsObject();
                    foreach (var (key, sub) in value!.AsObject())
                    {
                        if (props.TryGetPropertyValue(key, out JsonNode? old) && !JsonNode.DeepEquals(old, sub))
                        {
                            throw new StructuredOutputSchemaException($"The property '{key}' is defined differently beside and inside 'anyOf' at {path}.", "anyOf", path);
                        }

                        props[key] = sub?.DeepClone();
                    }
                }
                else if (p.Name == "required")
                {
                    var req = existing!.AsArray();
                    foreach (JsonNode? r in value!.AsArray())
                    {
                        if (!req.Any(x => JsonNode.DeepEquals(x, r)))
                        {
                            req.Add(r?.DeepClone());
                        }
                    }
                }
                else if (!JsonNode.DeepEquals(existing, value))
                {
                    if (p.Name == "type")
                    {
                        merged["type"] = IntersectTypes(existing!, value!);
                        continue;
                    }

                    throw new StructuredOutputSchemaException($"The keyword '{p.Name}' differs beside and inside 'anyOf' at {path}; that combination is not supported.", p.Name, path);
                }
            }
        }

        return JsonSerializer.SerializeToElement(merged);
    }

    private static JsonArray IntersectTypes(JsonNode a, JsonNode b)
    {
        static HashSet<string> Set(JsonNode n) => n is JsonArray arr
            ? arr.Select(x => x!.GetValue<string>()).ToHashSet(StringComparer.Ordinal)
            : [n.GetValue<string>()];
        HashSet<string> sa = Set(a), sb = Set(b);
        if (sa.Contains("number"))
        {
            sa.Add("integer");
        }

        if (sb.Contains("number"))
        {
            sb.Add("integer");
        }

        sa.IntersectWith(sb);
        if (sa.Contains("integer") && sa.Contains("number") && !(Set(a).Contains("number") && Set(b).Contains("number")))
        {
            sa.Remove("number");
        }

        return new JsonArray([.. sa.Select(t => (JsonNode)JsonValue.Create(t))]);
    }

    private void FillLiterals(GrammarNode node, JsonElement schema, HashSet<string> types, string path)
    {
        var values = new List<JsonElement>();
        if (schema.TryGetProperty("const", out JsonElement constant))
        {
            values.Add(constant);
        }

        if (schema.TryGetProperty("enum", out JsonElement enumValues))
        {
            if (enumValues.ValueKind != JsonValueKind.Array)
            {
                throw new StructuredOutputSchemaException($"'enum' at {path} must be an array.", "enum", path);
            }

            if (enumValues.GetArrayLength() > _options.MaxEnumValues)
            {
                throw new StructuredOutputSchemaException($"The enum at {path} lists {enumValues.GetArrayLength()} values; at most {_options.MaxEnumValues} are supported.", "enum", path);
            }

            var list = enumValues.EnumerateArray().ToList();
            if (values.Count == 1)
            {
                // const and enum together: the const must be one of the enum values.
                values = list.Any(v => JsonElement.DeepEquals(v, constant)) ? values : [];
            }
            else
            {
                values.AddRange(list);
            }
        }

        var texts = new List<byte[]>();
        foreach (JsonElement v in values)
        {
            if (MatchesType(v, types))
            {
                texts.Add(JsonSerializer.SerializeToUtf8Bytes(v, s_relaxed));
            }
        }

        node.Kind = GrammarNodeKind.Literals;
        node.Literals = new LiteralTrie(texts);
    }

    private static bool MatchesType(JsonElement value, HashSet<string> types) => value.ValueKind switch
    {
        JsonValueKind.Object => types.Contains("object"),
        JsonValueKind.Array => types.Contains("array"),
        JsonValueKind.String => types.Contains("string"),
        JsonValueKind.Number => types.Contains("number") || (types.Contains("integer") && value.TryGetDecimal(out decimal d) && d == decimal.Truncate(d)),
        JsonValueKind.True or JsonValueKind.False => types.Contains("boolean"),
        JsonValueKind.Null => types.Contains("null"),
        _ => false,
    };

    private void FillType(GrammarNode node, JsonElement schema, string type, string path)
    {
        switch (type)
        {
            case "null":
                node.Kind = GrammarNodeKind.Literals;
                node.Literals = new LiteralTrie(["null"u8.ToArray()]);
                break;
            case "boolean":
                node.Kind = GrammarNodeKind.Literals;
                node.Literals = new LiteralTrie(["true"u8.ToArray(), "false"u8.ToArray()]);
                break;
            case "integer" or "number":
                node.Kind = GrammarNodeKind.Number;
                node.Number = NumberOf(schema, type == "integer", path);
                break;
            case "string":
                FillString(node, schema, path);
                break;
            case "array":
                FillArray(node, schema, path);
                break;
            default:
                FillObject(node, schema, path);
                break;
        }
    }

    private NumberSpec NumberOf(JsonElement schema, bool integer, string path)
    {
        int frac = integer ? 0 : _options.MaxFractionDigits;
        decimal step = NumberSpec.Pow10(-frac);
        decimal? min = null, max = null;
        if (Bound(schema, "minimum", path) is decimal m)
        {
            min = CeilToGrid(m, step);
        }

        if (Bound(schema, "exclusiveMinimum", path) is decimal em)
        {
            decimal v = CeilToGrid(em, step);
            v = v == em ? v + step : v;
            min = min is null ? v : Math.Max(min.Value, v);
        }

        if (Bound(schema, "maximum", path) is decimal x)
        {
            max = FloorToGrid(x, step);
        }

        if (Bound(schema, "exclusiveMaximum", path) is decimal ex)
        {
            decimal v = FloorToGrid(ex, step);
            v = v == ex ? v - step : v;
            max = max is null ? v : Math.Min(max.Value, v);
        }

        int digits = _options.MaxIntegerDigits;
        foreach (decimal? bound in new[] { min, max })
        {
            if (bound is decimal b)
            {
                int needed = decimal.Truncate(Math.Abs(b)).ToString(CultureInfo.InvariantCulture).Length;
                digits = Math.Max(digits, needed);
            }
        }

        if (digits > 18)
        {
            throw new StructuredOutputSchemaException($"The numeric bounds at {path} are too large (more than 18 integer digits).", "maximum", path);
        }

        return new NumberSpec(digits, frac, min, max);
    }

    private static decimal CeilToGrid(decimal value, decimal step) => decimal.Ceiling(value / step) * step;

    private static decimal FloorToGrid(decimal value, decimal step) => decimal.Floor(value / step) * step;

    private static decimal? Bound(JsonElement schema, string keyword, string path)
    {
        if (!schema.TryGetProperty(keyword, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new StructuredOutputSchemaException($"'{keyword}' at {path} must be a number (draft-04 boolean bounds are not supported).", keyword, path);
        }

        if (value.TryGetDecimal(out decimal d))
        {
            return d;
        }

        double dbl = value.GetDouble();
        bool lower = keyword.Contains("inimum", StringComparison.Ordinal);
        if ((lower && dbl < 0) || (!lower && dbl > 0))
        {
            return null; // beyond every representable value: no bound in practice
        }

        throw new StructuredOutputSchemaException($"'{keyword}' at {path} is out of the supported range.", keyword, path);
    }

    private static int IntOf(JsonElement schema, string keyword, string path, int fallback)
    {
        if (!schema.TryGetProperty(keyword, out JsonElement value))
        {
            return fallback;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long n) || n < 0)
        {
            throw new StructuredOutputSchemaException($"'{keyword}' at {path} must be a non-negative integer.", keyword, path);
        }

        return (int)Math.Min(n, int.MaxValue);
    }

    private void FillString(GrammarNode node, JsonElement schema, string path)
    {
        node.Kind = GrammarNodeKind.String;
        node.MinLength = IntOf(schema, "minLength", path, 0);
        node.MaxLength = Math.Min(IntOf(schema, "maxLength", path, int.MaxValue), _options.MaxStringLength);
        bool hasFormat = schema.TryGetProperty("format", out JsonElement format);
        bool hasPattern = schema.TryGetProperty("pattern", out JsonElement pattern);
        if (hasFormat && hasPattern)
        {
            throw new StructuredOutputSchemaException($"'format' together with 'pattern' at {path} is not supported.", "pattern", path);
        }

        if (hasFormat)
        {
            string name = format.GetString() ?? string.Empty;
            node.Regex = StringFormats.Get(name)
                ?? throw new StructuredOutputSchemaException($"The string format '{name}' at {path} is not supported (supported: {string.Join(", ", StringFormats.Names)}).", "format", path);
        }
        else if (hasPattern)
        {
            try
            {
                node.Regex = ByteRegex.Compile(pattern.GetString() ?? string.Empty);
            }
            catch (FormatException ex)
            {
                throw new StructuredOutputSchemaException($"The pattern at {path} is outside the supported subset: {ex.Message}.", "pattern", path);
            }
        }

        if (node.MinLength > node.MaxLength)
        {
            throw new StructuredOutputSchemaException($"minLength {node.MinLength} at {path} exceeds the largest supported length {node.MaxLength}.", "minLength", path);
        }
    }

    private void FillArray(GrammarNode node, JsonElement schema, string path)
    {
        node.Kind = GrammarNodeKind.Array;
        node.Items = schema.TryGetProperty("items", out JsonElement items) ? CompileAt(items, path + "/items") : Any();
        node.MinItems = IntOf(schema, "minItems", path, 0);
        node.MaxItems = IntOf(schema, "maxItems", path, int.MaxValue);
        if (node.MinItems > node.MaxItems)
        {
            node.Kind = GrammarNodeKind.AnyOf; // allows nothing
            node.Alternatives = [];
        }
    }

    private void FillObject(GrammarNode node, JsonElement schema, string path)
    {
        var required = new List<string>();
        if (schema.TryGetProperty("required", out JsonElement req))
        {
            foreach (JsonElement r in req.EnumerateArray())
            {
                required.Add(r.GetString() ?? throw new StructuredOutputSchemaException($"'required' at {path} must list strings.", "required", path));
            }
        }

        bool additionalAllowed = true;
        GrammarNode? additional = null;
        if (schema.TryGetProperty("additionalProperties", out JsonElement addl))
        {
            if (addl.ValueKind == JsonValueKind.False)
            {
                additionalAllowed = false;
            }
            else
            {
                additional = CompileAt(addl, path + "/additionalProperties");
            }
        }

        var properties = new List<GrammarProperty>();
        var defined = new HashSet<string>(StringComparer.Ordinal);
        if (schema.TryGetProperty("properties", out JsonElement props))
        {
            foreach (JsonProperty p in props.EnumerateObject())
            {
                defined.Add(p.Name);
                if (_options.EmitAllProperties || required.Contains(p.Name))
                {
                    GrammarNode value = CompileAt(p.Value, $"{path}/properties/{EscapePointer(p.Name)}");
                    properties.Add(new GrammarProperty(p.Name, JsonSerializer.SerializeToUtf8Bytes(p.Name, s_relaxed), value));
                }
            }
        }

        foreach (string name in required.Distinct(StringComparer.Ordinal))
        {
            if (defined.Contains(name))
            {
                continue;
            }

            if (!additionalAllowed)
            {
                node.Kind = GrammarNodeKind.AnyOf; // a required property that may not appear: nothing validates
                node.Alternatives = [];
                return;
            }

            properties.Add(new GrammarProperty(name, JsonSerializer.SerializeToUtf8Bytes(name, s_relaxed), additional ?? Any()));
        }

        if (properties.Count == 0 && defined.Count == 0 && additionalAllowed)
        {
            node.Kind = GrammarNodeKind.Map;
            node.Items = additional ?? Any();
            node.Keys = KeyNode();
            node.DepthLimited = additional is null;
            return;
        }

        node.Kind = GrammarNodeKind.Object;
        node.Properties = [.. properties];
    }

    private GrammarNode KeyNode()
    {
        GrammarNode key = NewNode("#key");
        key.Kind = GrammarNodeKind.String;
        key.MinLength = 1;
        key.MaxLength = _options.MaxKeyLength;
        return key;
    }

    private GrammarNode Any()
    {
        if (_any is not null)
        {
            return _any;
        }

        _any = NewNode("#any");
        _any.Kind = GrammarNodeKind.AnyOf;
        GrammarNode obj = NewNode("#any-object");
        obj.Kind = GrammarNodeKind.Map;
        obj.Items = _any;
        obj.Keys = KeyNode();
        obj.DepthLimited = true;
        GrammarNode arr = NewNode("#any-array");
        arr.Kind = GrammarNodeKind.Array;
        arr.Items = _any;
        arr.DepthLimited = true;
        GrammarNode str = NewNode("#any-string");
        str.Kind = GrammarNodeKind.String;
        str.MaxLength = _options.MaxStringLength;
        GrammarNode num = NewNode("#any-number");
        num.Kind = GrammarNodeKind.Number;
        num.Number = new NumberSpec(15, _options.MaxFractionDigits, null, null);
        GrammarNode lit = NewNode("#any-literal");
        lit.Kind = GrammarNodeKind.Literals;
        lit.Literals = new LiteralTrie(["true"u8.ToArray(), "false"u8.ToArray(), "null"u8.ToArray()]);
        _any.Alternatives = [obj, arr, str, num, lit];
        return _any;
    }

    private GrammarNode Never(string path)
    {
        GrammarNode node = NewNode(path);
        node.Kind = GrammarNodeKind.AnyOf;
        return node;
    }

    private JsonElement Resolve(string pointer, string path)
    {
        if (!pointer.StartsWith('#'))
        {
            throw new StructuredOutputSchemaException($"Only local '$ref' pointers (starting with '#') are supported; found '{pointer}' at {path}.", "$ref", path);
        }

        JsonElement current = _document;
        foreach (string raw in pointer[1..].Split('/', StringSplitOptions.None).Skip(1))
        {
            string segment = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(segment, out JsonElement next))
            {
                current = next;
            }
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                throw new StructuredOutputSchemaException($"The '$ref' '{pointer}' at {path} points to nothing.", "$ref", path);
            }
        }

        return current;
    }

    private static string NormalizePointer(string pointer)
    {
        string[] parts = pointer[1..].Split('/').Skip(1)
            .Select(raw => EscapePointer(Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)))
            .ToArray();
        return parts.Length == 0 ? "#" : "#/" + string.Join('/', parts);
    }

    private static string EscapePointer(string segment) => segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    /// <summary>Computes the shortest text of every node (a fixpoint, for recursion) and the object tails.</summary>
    private void Finish()
    {
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (GrammarNode node in _nodes)
            {
                int value = MinBytesOf(node);
                if (value < node.MinBytes)
                {
                    node.MinBytes = value;
                    changed = true;
                }
            }
        }

        foreach (GrammarNode node in _nodes)
        {
            if (node.Kind == GrammarNodeKind.Object)
            {
                var tail = new int[node.Properties.Length + 1];
                tail[^1] = 1;
                for (int i = node.Properties.Length - 1; i >= 0; i--)
                {
                    GrammarProperty p = node.Properties[i];
                    tail[i] = Add(p.KeyBytes.Length + 1 + (i < node.Properties.Length - 1 ? 1 : 0), p.Value.MinBytes, tail[i + 1]);
                }

                node.Tail = tail;
            }
        }
    }

    private static int MinBytesOf(GrammarNode node) => node.Kind switch
    {
        GrammarNodeKind.Literals => node.Literals!.MinLength,
        GrammarNodeKind.Number => node.Number!.MinBytes(),
        GrammarNodeKind.String => node.Regex is null
            ? 2 + node.MinLength
            : node.Regex.MinLength == int.MaxValue ? int.MaxValue : 2 + Math.Max(node.MinLength, node.Regex.MinLength),
        GrammarNodeKind.Array => node.MinItems == 0 ? 2 : Add(2 + node.MinItems - 1, Mul(node.MinItems, node.Items!.MinBytes)),
        GrammarNodeKind.Map => 2,
        GrammarNodeKind.Object => node.Properties.Aggregate(1 + node.Properties.Length, (acc, p) => Add(acc + p.KeyBytes.Length + 1, p.Value.MinBytes)),
        _ => node.Alternatives.Length == 0 ? int.MaxValue : node.Alternatives.Min(a => a.MinBytes),
    };

    /// <summary>Saturating addition (int.MaxValue means "no value").</summary>
    internal static int Add(params ReadOnlySpan<int> values)
    {
        long sum = 0;
        foreach (int v in values)
        {
            if (v == int.MaxValue)
            {
                return int.MaxValue;
            }

            sum += v;
        }

        return sum >= int.MaxValue ? int.MaxValue : (int)sum;
    }

    private static int Mul(int count, int each) => each == int.MaxValue ? int.MaxValue : (int)Math.Min((long)count * each, int.MaxValue);
}
