using System.IO.Compression;
using System.Text.Json;
using Idefics3.Tokenization;

namespace Idefics3.Tests;

/// <summary>Access to the golden files copied under Fixtures/ (the tests never read /work/shared).</summary>
internal static class TestFixtures
{
    private static readonly Lazy<HuggingFaceTokenizer> _llama3 = new(() =>
    {
        using var gz = new GZipStream(File.OpenRead(PathOf("llama3", "tokenizer.json.gz")), CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        return HuggingFaceTokenizer.FromJson(reader.ReadToEnd(), File.ReadAllText(PathOf("llama3", "tokenizer_config.json")));
    });

    private static readonly Lazy<HuggingFaceTokenizer> _tiny = new(() => HuggingFaceTokenizer.FromDirectory(TinyModelDirectory));

    private static readonly Lazy<string> _smolVlm = new(() => GenuineModelFolder.MaterializeShared(PathOf("smolvlm-256m-instruct")));

    private static readonly Lazy<HuggingFaceTokenizer> _smolVlmTokenizer = new(() => HuggingFaceTokenizer.FromDirectory(SmolVlmDirectory));

    public static HuggingFaceTokenizer Llama3Tokenizer => _llama3.Value;

    public static HuggingFaceTokenizer TinyTokenizer => _tiny.Value;

    /// <summary>Gets the genuine SmolVLM-256M-Instruct processor and tokenizer files, as a model folder (no weights).</summary>
    public static string SmolVlmDirectory => _smolVlm.Value;

    /// <summary>Gets the genuine SmolVLM tokenizer, loaded from <see cref="SmolVlmDirectory"/> as a user's folder is.</summary>
    public static HuggingFaceTokenizer SmolVlmTokenizer => _smolVlmTokenizer.Value;

    public static string TinyModelDirectory => PathOf("tiny-idefics3", "model");

    /// <summary>Copies the tiny model folder to a new temporary folder a test may change.</summary>
    public static string CopyTinyModel(string purpose)
    {
        string folder = Path.Combine(Path.GetTempPath(), purpose, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.GetFiles(TinyModelDirectory))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        return folder;
    }

    public static string PathOf(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static JsonDocument Json(params string[] parts) => JsonDocument.Parse(File.ReadAllText(PathOf(parts)));

    public static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
