using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Idefics3.ChatClient;

/// <summary>
/// Reads typed values out of <see cref="AdditionalPropertiesDictionary"/>, accepting the CLR types callers put there
/// and the <see cref="JsonElement"/> values Semantic Kernel's settings round-trip produces.
/// </summary>
internal static class AdditionalPropertyReader
{
    public static double? GetDouble(AdditionalPropertiesDictionary? properties, string key) =>
        TryGet(properties, key, out object? value) ? ToDouble(key, value) : null;

    public static int? GetInt32(AdditionalPropertiesDictionary? properties, string key)
    {
        double? d = GetDouble(properties, key);
        if (d is null)
        {
            return null;
        }

        if (d.Value != Math.Floor(d.Value) || d.Value > int.MaxValue || d.Value < int.MinValue)
        {
            throw new ArgumentException($"Additional property '{key}' must be a whole number; got {d.Value.ToString(CultureInfo.InvariantCulture)}.", nameof(properties));
        }

        return (int)d.Value;
    }

    public static bool? GetBoolean(AdditionalPropertiesDictionary? properties, string key)
    {
        if (!TryGet(properties, key, out object? value))
        {
            return null;
        }

        return value switch
        {
            bool b => b,
            JsonElement { ValueKind: JsonValueKind.True } => true,
            JsonElement { ValueKind: JsonValueKind.False } => false,
            string s when bool.TryParse(s, out bool b) => b,
            _ => throw new ArgumentException($"Additional property '{key}' must be true or false; got '{value}'.", nameof(properties)),
        };
    }

    public static string? GetString(AdditionalPropertiesDictionary? properties, string key)
    {
        if (!TryGet(properties, key, out object? value))
        {
            return null;
        }

        return value switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            _ => throw new ArgumentException($"Additional property '{key}' must be a string; got '{value}'.", nameof(properties)),
        };
    }

    private static bool TryGet(AdditionalPropertiesDictionary? properties, string key, out object? value)
    {
        value = null;
        return properties is not null && properties.TryGetValue(key, out value) && value is not null &&
               value is not JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined };
    }

    private static double ToDouble(string key, object? value) => value switch
    {
        double d => d,
        float f => f,
        int i => i,
        long l => l,
        decimal m => (double)m,
        short s => s,
        JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
        JsonElement { ValueKind: JsonValueKind.String } e when double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
        _ => throw new ArgumentException($"Additional property '{key}' must be a number; got '{value}'.", nameof(value)),
    };
}
