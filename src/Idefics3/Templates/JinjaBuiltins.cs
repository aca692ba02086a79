using System.Collections;
using System.Globalization;
using System.Text.Json;

namespace Idefics3.Templates;

/// <summary>Filters, tests and string/dict methods of the supported Jinja subset.</summary>
internal static class JinjaBuiltins
{
    public static bool AreEqual(object? a, object? b) => AreEqual(a, b, 0);

    private static bool AreEqual(object? a, object? b, int depth)
    {
        if (depth > JinjaLimits.MaxValueDepth)
        {
            throw new TemplateException($"values nested deeper than {JinjaLimits.MaxValueDepth} levels cannot be compared");
        }

        if (a is Undefined || b is Undefined)
        {
            return a is Undefined && b is Undefined;
        }

        if (a is null || b is null)
        {
            return a is null && b is null;
        }

        if (a is long or double or bool && b is long or double or bool)
        {
            return ToDouble(a) == ToDouble(b);
        }

        if (a is string sa && b is string sb)
        {
            return string.Equals(sa, sb, StringComparison.Ordinal);
        }

        if (a is IList la && b is IList lb)
        {
            return la.Count == lb.Count && Enumerable.Range(0, la.Count).All(i => AreEqual(la[i], lb[i], depth + 1));
        }

        return ReferenceEquals(a, b) || a.Equals(b);
    }

    public static object? Filter(string name, object? value, List<object?> args, Dictionary<string, object?> kwargs, Func<string, TemplateException> error)
    {
        switch (name)
        {
            case "capitalize":
                return Capitalize(JinjaRuntime.ToStr(value));
            case "upper":
                return JinjaRuntime.ToStr(value).ToUpperInvariant();
            case "lower":
                return JinjaRuntime.ToStr(value).ToLowerInvariant();
            case "title":
                return CultureInfo.InvariantCulture.TextInfo.ToTitleCase(JinjaRuntime.ToStr(value).ToLowerInvariant());
            case "trim":
                return args.Count > 0 && args[0] is string chars ? JinjaRuntime.ToStr(value).Trim(chars.ToCharArray()) : PyStrip(JinjaRuntime.ToStr(value));
            case "length" or "count":
                return value switch
                {
                    string s => (long)s.Length,
                    ICollection c => (long)c.Count,
                    Undefined => 0L,
                    _ => throw error($"object of type {value?.GetType().Name ?? "None"} has no length"),
                };
            case "string":
                return JinjaRuntime.ToStr(value);
            case "safe":
                return value;
            case "int":
                return value switch
                {
                    long l => l,
                    double d => (long)d,
                    bool b => b ? 1L : 0L,
                    string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long p) => p,
                    _ => args.Count > 0 ? args[0] : 0L,
                };
            case "float":
                return value switch
                {
                    long l => (double)l,
                    double d => d,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double p) => p,
                    _ => 0.0,
                };
            case "abs":
                return value switch
                {
                    long l => (object)Math.Abs(l),
                    double d => Math.Abs(d),
                    _ => throw error("abs needs a number"),
                };
            case "default" or "d":
                {
                    bool boolean = (args.Count > 1 && JinjaRuntime.Truthy(args[1])) || (kwargs.TryGetValue("boolean", out var bv) && JinjaRuntime.Truthy(bv));
                    object? fallback = args.Count > 0 ? args[0] : string.Empty;
                    return value is Undefined || (boolean && !JinjaRuntime.Truthy(value)) ? fallback : value;
                }

            case "first":
                return value switch
                {
                    string s => s.Length > 0 ? s[..1] : Undefined.Instance,
                    IList l => l.Count > 0 ? l[0] : Undefined.Instance,
                    _ => throw error("first needs a sequence"),
                };
            case "last":
                return value switch
                {
                    string s => s.Length > 0 ? s[^1..] : Undefined.Instance,
                    IList l => l.Count > 0 ? l[^1] : Undefined.Instance,
                    _ => throw error("last needs a sequence"),
                };
            case "join":
                {
                    string sep = args.Count > 0 ? JinjaRuntime.ToStr(args[0]) : string.Empty;
                    return value switch
                    {
                        IList l => Join(sep, l.Cast<object?>().Select(JinjaRuntime.ToStr).ToList(), error),
                        string s => Join(sep, s.Select(c => c.ToString()).ToList(), error),
                        _ => throw error("join needs a sequence"),
                    };
                }

            case "list":
                JinjaLimits.CheckListLength(value is string text ? text.Length : 0, error);
                return value switch
                {
                    string s => s.Select(c => (object?)c.ToString()).ToList(),
                    IDictionary<string, object?> d => d.Keys.Cast<object?>().ToList(),
                    IList l => l.Cast<object?>().ToList(),
                    _ => throw error("list needs an iterable"),
                };
            case "reverse":
                return value switch
                {
                    string s => new string(s.Reverse().ToArray()),
                    IList l => l.Cast<object?>().Reverse().ToList(),
                    _ => throw error("reverse needs a sequence"),
                };
            case "replace":
                if (args.Count < 2)
                {
                    throw error("replace needs two arguments");
                }

                return Replace(JinjaRuntime.ToStr(value), JinjaRuntime.ToStr(args[0]), JinjaRuntime.ToStr(args[1]), error);
            case "items":
                return value is IDictionary<string, object?> dict
                    ? dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()
                    : throw error("items needs a mapping");
            case "tojson":
                return ToJson(value, kwargs.TryGetValue("indent", out var ind) && ind is long n ? (int)Math.Clamp(n, 0, 64) : null, error);
            default:
                throw error($"unsupported construct: filter '{name}'");
        }
    }

    public static bool Test(string name, object? value, List<object?> args, Func<string, TemplateException> error) => name switch
    {
        "defined" => value is not Undefined,
        "undefined" => value is Undefined,
        "none" => value is null,
        "string" => value is string,
        "number" => value is long or double,
        "integer" => value is long,
        "float" => value is double,
        "boolean" => value is bool,
        "true" => value is true,
        "false" => value is false,
        "mapping" => value is IDictionary<string, object?>,
        "iterable" => value is string or IList or IDictionary<string, object?>,
        "sequence" => value is string or IList or IDictionary<string, object?>,
        "odd" => value is long l && l % 2 != 0,
        "even" => value is long l2 && l2 % 2 == 0,
        "eq" or "equalto" or "sameas" => args.Count == 1 ? AreEqual(value, args[0]) : throw error($"test '{name}' needs one argument"),
        "ne" => args.Count == 1 ? !AreEqual(value, args[0]) : throw error("test 'ne' needs one argument"),
        _ => throw error($"unsupported construct: test '{name}'"),
    };

    public static object? CallMethod(object? target, string name, List<object?> args, Func<string, TemplateException> error)
    {
        if (target is string s)
        {
            string Arg(int i) => i < args.Count ? JinjaRuntime.ToStr(args[i]) : throw error($"{name}() needs {i + 1} argument(s)");
            return name switch
            {
                "capitalize" => Capitalize(s),
                "upper" => s.ToUpperInvariant(),
                "lower" => s.ToLowerInvariant(),
                "title" => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(s.ToLowerInvariant()),
                "strip" => args.Count > 0 ? s.Trim(Arg(0).ToCharArray()) : PyStrip(s),
                "lstrip" => args.Count > 0 ? s.TrimStart(Arg(0).ToCharArray()) : s.TrimStart(),
                "rstrip" => args.Count > 0 ? s.TrimEnd(Arg(0).ToCharArray()) : s.TrimEnd(),
                "startswith" => s.StartsWith(Arg(0), StringComparison.Ordinal),
                "endswith" => s.EndsWith(Arg(0), StringComparison.Ordinal),
                "replace" => Replace(s, Arg(0), Arg(1), error),
                "split" => (args.Count > 0 ? s.Split(Arg(0)) : s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Select(x => (object?)x).ToList(),
                "format" => throw error("unsupported construct: str.format()"),
                _ => throw error($"unsupported construct: string method '{name}()'"),
            };
        }

        if (target is IDictionary<string, object?> d)
        {
            return name switch
            {
                "items" => d.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList(),
                "keys" => d.Keys.Cast<object?>().ToList(),
                "values" => d.Values.ToList(),
                "get" => args.Count > 0 && args[0] is string k && d.TryGetValue(k, out var v) ? v : args.Count > 1 ? args[1] : null,
                _ => throw error($"unsupported construct: mapping method '{name}()'"),
            };
        }

        if (target is Undefined)
        {
            throw error($"cannot call '{name}()' on an undefined value");
        }

        throw error($"unsupported construct: method '{name}()' on {target?.GetType().Name ?? "None"}");
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static string PyStrip(string s) => s.Trim();

    private static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => double.NaN,
    };

    /// <summary>Joins strings, refusing a result longer than <see cref="JinjaLimits.MaxStringLength"/> before allocating it.</summary>
    private static string Join(string separator, List<string> parts, Func<string, TemplateException> error)
    {
        long length = parts.Count == 0 ? 0 : (long)separator.Length * (parts.Count - 1);
        foreach (string part in parts)
        {
            length += part.Length;
        }

        JinjaLimits.CheckStringLength(length, error);
        return string.Join(separator, parts);
    }

    /// <summary>Python's <c>str.replace</c> (an empty pattern inserts between characters), sized before it allocates.</summary>
    private static string Replace(string s, string oldValue, string newValue, Func<string, TemplateException> error)
    {
        if (oldValue.Length == 0)
        {
            JinjaLimits.CheckStringLength(s.Length + ((s.Length + 1L) * newValue.Length), error);
            var sb = new System.Text.StringBuilder(newValue);
            foreach (char c in s)
            {
                sb.Append(c).Append(newValue);
            }

            return sb.ToString();
        }

        if (newValue.Length > oldValue.Length)
        {
            long count = 0;
            for (int i = s.IndexOf(oldValue, StringComparison.Ordinal); i >= 0; i = s.IndexOf(oldValue, i + oldValue.Length, StringComparison.Ordinal))
            {
                count++;
            }

            JinjaLimits.CheckStringLength(s.Length + (count * (newValue.Length - oldValue.Length)), error);
        }

        return s.Replace(oldValue, newValue, StringComparison.Ordinal);
    }

    private static string ToJson(object? value, int? indent, Func<string, TemplateException> error)
    {
        using var stream = new MemoryStream();
        var options = new JsonWriterOptions
        {
            Indented = indent is not null,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            MaxDepth = JinjaLimits.MaxValueDepth + 1,
        };
        using (var writer = new Utf8JsonWriter(stream, options))
        {
            Write(writer, value, 0, error);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Write(Utf8JsonWriter w, object? value, int depth, Func<string, TemplateException> error)
    {
        if (depth > JinjaLimits.MaxValueDepth)
        {
            throw error($"value nested deeper than {JinjaLimits.MaxValueDepth} levels cannot be serialized");
        }

        // Bytes, an upper bound for characters: a list may hold one huge string many times.
        JinjaLimits.CheckStringLength(w.BytesCommitted + w.BytesPending + (value is string text ? text.Length : 0), error);
        switch (value)
        {
            case null or Undefined:
                w.WriteNullValue();
                break;
            case string s:
                w.WriteStringValue(s);
                break;
            case bool b:
                w.WriteBooleanValue(b);
                break;
            case long l:
                w.WriteNumberValue(l);
                break;
            case double d:
                w.WriteNumberValue(d);
                break;
            case IDictionary<string, object?> dict:
                w.WriteStartObject();
                foreach (var (k, v) in dict)
                {
                    w.WritePropertyName(k);
                    Write(w, v, depth + 1, error);
                }

                w.WriteEndObject();
                break;
            case IList list:
                w.WriteStartArray();
                foreach (var item in list)
                {
                    Write(w, item, depth + 1, error);
                }

                w.WriteEndArray();
                break;
            default:
                w.WriteStringValue(value.ToString());
                break;
        }
    }
}
