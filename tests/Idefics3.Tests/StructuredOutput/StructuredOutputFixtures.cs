using System.IO.Compression;
using Idefics3.StructuredOutput;
using Idefics3.Tokenization;

namespace Idefics3.Tests.StructuredOutput;

/// <summary>The two real vocabularies (genuine tokenizer.json files copied into Fixtures) and their token indexes.</summary>
internal static class StructuredOutputFixtures
{
    private static readonly Lazy<(HuggingFaceTokenizer Tokenizer, TokenIndex Index)> _smol = new(() =>
    {
        HuggingFaceTokenizer tokenizer = Load("smolvlm-256m-instruct");
        // SmolVLM's generation ends with <end_of_utterance> (49279) or <|im_end|> (2).
        return (tokenizer, TokenIndex.Build(tokenizer, [2, 49279]));
    });

    private static readonly Lazy<(HuggingFaceTokenizer Tokenizer, TokenIndex Index)> _llama = new(() =>
    {
        HuggingFaceTokenizer tokenizer = TestFixtures.Llama3Tokenizer;
        return (tokenizer, TokenIndex.Build(tokenizer, [128001, 128008, 128009]));
    });

    public static (HuggingFaceTokenizer Tokenizer, TokenIndex Index) Vocabulary(string name) => name switch
    {
        "smolvlm" => _smol.Value,
        "llama3" => _llama.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static HuggingFaceTokenizer Load(string folder)
    {
        using var gz = new GZipStream(File.OpenRead(TestFixtures.PathOf(folder, "tokenizer.json.gz")), CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        return HuggingFaceTokenizer.FromJson(reader.ReadToEnd(), File.ReadAllText(TestFixtures.PathOf(folder, "tokenizer_config.json")));
    }
}
