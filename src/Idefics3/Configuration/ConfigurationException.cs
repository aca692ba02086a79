namespace Idefics3.Configuration;

/// <summary>
/// A model configuration file (config.json, generation_config.json, preprocessor_config.json, processor_config.json,
/// tokenizer files) is missing, malformed, or holds a value this library cannot use. The message names the file and
/// the field.
/// </summary>
public sealed class ConfigurationException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ConfigurationException"/> class.</summary>
    public ConfigurationException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConfigurationException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public ConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConfigurationException"/> class with a message and a cause.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConfigurationException"/> class for one field of one file.</summary>
    /// <param name="file">The file name, for example <c>config.json</c>.</param>
    /// <param name="field">The JSON path of the field, for example <c>text_config.rope_scaling.rope_type</c>.</param>
    /// <param name="problem">What is wrong with it.</param>
    public ConfigurationException(string file, string field, string problem)
        : base($"{file}: '{field}': {problem}")
    {
        File = file;
        Field = field;
    }

    /// <summary>Initializes a new instance of the <see cref="ConfigurationException"/> class for one field of one file, with its cause.</summary>
    /// <param name="file">The file name, for example <c>config.json</c>.</param>
    /// <param name="field">The JSON path of the field (<c>$</c> for the whole file).</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ConfigurationException(string file, string field, string problem, Exception innerException)
        : base($"{file}: '{field}': {problem}", innerException)
    {
        File = file;
        Field = field;
    }

    /// <summary>Gets the file the error is about, when known.</summary>
    public string? File { get; }

    /// <summary>Gets the JSON path of the field the error is about, when known.</summary>
    public string? Field { get; }
}
