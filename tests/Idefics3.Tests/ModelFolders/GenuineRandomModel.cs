using System.Text.Json;
using System.Text.Json.Nodes;
using Idefics3.Tokenization;

namespace Idefics3.Tests;

/// <summary>
/// A SmolVLM model folder as a new user has it: the genuine processor, tokenizer and config files of
/// HuggingFaceTB/SmolVLM-256M-Instruct, and random bfloat16 weights of the exact 256M or 500M shapes (the 500M
/// config is the genuine 256M file with the 500M text shapes; the two models share every other file). The weights make
/// the greedy answer to any chat prompt "Hello", &lt;|im_end|&gt;, " world", &lt;end_of_utterance&gt;
/// (see <see cref="RandomWeightModelFolder"/>): Hugging Face's <c>generate</c> stops only on the generation config's
/// eos (&lt;end_of_utterance&gt;), so the visible answer is "Hello world" after four tokens.
/// </summary>
/// <remarks>
/// The folder is written once per content (files, shapes and answer chain hashed into its name) under the temporary
/// folder and reused by later runs and by the other test assembly, as the CLI benchmark reuses its random models; it
/// is built in a scratch folder and renamed into place, so concurrent runs never see half a folder.
/// </remarks>
internal sealed class GenuineRandomModel
{
    private GenuineRandomModel(string folder, int[] expectedOutputIds)
    {
        Folder = folder;
        ExpectedOutputIds = expectedOutputIds;
    }

    /// <summary>Gets the model folder.</summary>
    public string Folder { get; }

    /// <summary>Gets the ids a greedy answer must produce, the last being &lt;end_of_utterance&gt;.</summary>
    public int[] ExpectedOutputIds { get; }

    /// <summary>Gets the visible answer.</summary>
    public static string ExpectedText => "Hello world";

    /// <summary>Builds the folder, or finds it built by an earlier run.</summary>
    /// <param name="fixtures">The test fixture root (holding smolvlm-256m-instruct/ and approved/).</param>
    /// <param name="shape">"smolvlm-256m-instruct" or "smolvlm-500m-instruct".</param>
    /// <returns>The model.</returns>
    public static GenuineRandomModel Create(string fixtures, string shape)
    {
        string scratch = GenuineModelFolder.Materialize(Path.Combine(fixtures, "smolvlm-256m-instruct"), GenuineModelFolder.NewTemporaryFolder(shape + "-partial"));
        if (shape == "smolvlm-500m-instruct")
        {
            string configPath = Path.Combine(scratch, "config.json");
            var config = JsonNode.Parse(File.ReadAllText(configPath))!;
            var text = config["text_config"]!;
            text["hidden_size"] = 960;
            text["intermediate_size"] = 2560;
            text["num_attention_heads"] = 15;
            text["num_key_value_heads"] = 5;
            text["num_hidden_layers"] = 32;
            File.WriteAllText(configPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }

        var tokenizer = HuggingFaceTokenizer.FromDirectory(scratch);
        int colon = Single(tokenizer, ":");
        int hello = Single(tokenizer, "Hello");
        int world = Single(tokenizer, " world");
        int imEnd = tokenizer.TokenToId("<|im_end|>")!.Value;
        int endOfUtterance = tokenizer.TokenToId("<end_of_utterance>")!.Value;
        (int, int)[] chain = [(colon, hello), (hello, imEnd), (imEnd, world), (world, endOfUtterance)];
        string parameters = Path.Combine(fixtures, "approved", shape + ".parameters.txt");
        int[] expected = [hello, imEnd, world, endOfUtterance];

        string key = ContentKey(scratch, parameters, chain);
        string folder = Path.Combine(Path.GetTempPath(), "idefics3-tests", $"{shape}-random-{key}");
        if (Directory.Exists(folder))
        {
            Directory.Delete(scratch, recursive: true);
            return new GenuineRandomModel(folder, expected);
        }

        RandomWeightModelFolder.WriteWeights(scratch, parameters, chain);
        try
        {
            Directory.Move(scratch, folder);
        }
        catch (IOException) when (Directory.Exists(folder))
        {
            Directory.Delete(scratch, recursive: true); // another run finished first
        }

        return new GenuineRandomModel(folder, expected);
    }

    private static string ContentKey(string folder, string parameters, (int, int)[] chain)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (string file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal).Append(parameters))
        {
            hash.AppendData(File.ReadAllBytes(file));
        }

        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(RandomWeightModelFolder.Version + ";" + string.Join(';', chain)));
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..12];
    }

    private static int Single(HuggingFaceTokenizer tokenizer, string text)
    {
        int[] ids = tokenizer.Encode(text);
        return ids.Length == 1 ? ids[0] : throw new InvalidOperationException($"'{text}' is {ids.Length} tokens.");
    }
}
