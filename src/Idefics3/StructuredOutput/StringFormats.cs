namespace Idefics3.StructuredOutput;

/// <summary>
/// The string formats the grammar supports, each as a strict pattern whose every match parses with System.Text.Json
/// into the C# type that produces the format (date-time: <see cref="DateTime"/>/<see cref="DateTimeOffset"/>, date:
/// <see cref="DateOnly"/>, time: <see cref="TimeOnly"/>, uuid: <see cref="Guid"/>, uri: <see cref="Uri"/>). The
/// patterns are narrower than the formats (for example days 01-28 so that every month has them): stricter, never looser.
/// </summary>
internal static class StringFormats
{
    private const string Date = "[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])";
    private const string Time = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]";

    private static readonly Dictionary<string, ByteRegex> s_formats = new(StringComparer.Ordinal)
    {
        ["date-time"] = ByteRegex.Compile($"^{Date}T{Time}Z$"),
        ["date"] = ByteRegex.Compile($"^{Date}$"),
        ["time"] = ByteRegex.Compile($"^{Time}$"),
        ["uuid"] = ByteRegex.Compile("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        ["uri"] = ByteRegex.Compile("^https://[a-z0-9]{1,20}\\.[a-z]{2,6}(/[a-z0-9_-]{1,20}){0,2}$"),
        ["email"] = ByteRegex.Compile("^[a-z0-9]{1,20}(\\.[a-z0-9]{1,10})?@[a-z0-9]{1,20}\\.[a-z]{2,6}$"),
    };

    /// <summary>Gets the names of the supported formats.</summary>
    public static IEnumerable<string> Names => s_formats.Keys;

    /// <summary>The automaton of a format, or null when the format is not supported.</summary>
    public static ByteRegex? Get(string name) => s_formats.GetValueOrDefault(name);
}
