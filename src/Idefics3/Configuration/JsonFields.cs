using System.Text.Json;

namespace Idefics3.Configuration;

/// <summary>
/// Typed access to the fields of one JSON object of a configuration file. Every read names the file and the JSON path
/// in the <see cref="ConfigurationException"/> it throws, so a bad value is easy to find.
/// </summary>
internal readonly struct JsonFields
{
    private readonly JsonElement _element;

    public JsonFields(JsonElement element, string file, string path)
    {
        File = file;
        Path = path;
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ConfigurationException(file, path.Length == 0 ? "$" : path, $"expected a JSON object, found {element.ValueKind}");
        }

        _element = element;
    }

    public string File { get; }

    public string Path { get; }

    public static JsonDocument Parse(string json, string file)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new ConfigurationException(file, "$", "not valid JSON: " + ex.Message, ex);
        }
    }

    public static string ReadFile(string path)
    {
        return ModelFile.ReadText(path);
    }

    public string FieldPath(string name) => Path.Length == 0 ? name : Path + "." + name;

    public ConfigurationException Error(string name, string problem) => new(File, FieldPath(name), problem);

    public bool TryGet(string name, out JsonElement value)
    {
        if (_element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        value = default;
        return false;
    }

    public bool Has(string name) => TryGet(name, out _);

    public JsonFields? Object(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(name, $"expected a JSON object, found {value.ValueKind}");
        }

        return new JsonFields(value, File, FieldPath(name));
    }

    public int? OptionalInt(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int result))
        {
            throw Error(name, $"expected an integer, found {value.GetRawText()}");
        }

        return result;
    }

    public int Int(string name, int defaultValue) => OptionalInt(name) ?? defaultValue;

    public int RequiredInt(string name) => OptionalInt(name) ?? throw Error(name, "required field is missing");

    public double? OptionalDouble(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double result))
        {
            throw Error(name, $"expected a number, found {value.GetRawText()}");
        }

        return result;
    }

    public double Double(string name, double defaultValue) => OptionalDouble(name) ?? defaultValue;

    public double RequiredDouble(string name) => OptionalDouble(name) ?? throw Error(name, "required field is missing");

    public bool Bool(string name, bool defaultValue)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return defaultValue;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(name, $"expected true or false, found {value.GetRawText()}"),
        };
    }

    public string? OptionalString(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw Error(name, $"expected a string, found {value.GetRawText()}");
        }

        return value.GetString();
    }

    public string String(string name, string defaultValue) => OptionalString(name) ?? defaultValue;

    /// <summary>Reads an integer or a list of integers (Hugging Face allows both for eos_token_id).</summary>
    public IReadOnlyList<int> IntOrList(string name)
    {
        if (!TryGet(name, out JsonElement value))
        {
            return [];
        }

        if (value.ValueKind == JsonValueKind.Number)
        {
            return [OptionalInt(name)!.Value];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Error(name, $"expected an integer or a list of integers, found {value.GetRawText()}");
        }

        var list = new List<int>();
        foreach (JsonElement item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
            {
                throw Error(name, $"expected a list of integers, found element {item.GetRawText()}");
            }

            list.Add(id);
        }

        return list;
    }
}
