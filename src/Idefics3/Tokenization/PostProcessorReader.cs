using System.Text.Json;
using Idefics3.Configuration;

namespace Idefics3.Tokenization;

/// <summary>
/// Reads the <c>post_processor</c> of tokenizer.json: the special-token ids a <c>TemplateProcessing</c> puts before and
/// after a single sequence (the BOS rule). <c>ByteLevel</c> steps change no ids and are skipped.
/// </summary>
internal static class PostProcessorReader
{
    /// <summary>Reads the node.</summary>
    /// <param name="post">The <c>post_processor</c> node.</param>
    /// <param name="file">The file name for errors.</param>
    /// <returns>The prefix and suffix ids.</returns>
    /// <exception cref="ConfigurationException">An unsupported post-processor or an unlisted special token.</exception>
    public static (int[] Prefix, int[] Suffix) Read(JsonElement post, string file)
    {
        var prefix = new List<int>();
        var suffix = new List<int>();
        Add(post, prefix, suffix, file);
        return ([.. prefix], [.. suffix]);
    }

    private static void Add(JsonElement post, List<int> prefix, List<int> suffix, string file)
    {
        string type = post.GetProperty("type").GetString() ?? string.Empty;
        switch (type)
        {
            case "Sequence":
                foreach (var p in post.GetProperty("processors").EnumerateArray())
                {
                    Add(p, prefix, suffix, file);
                }

                break;
            case "ByteLevel":
                break;
            case "TemplateProcessing":
                AddTemplate(post, prefix, suffix, file);
                break;
            default:
                throw new ConfigurationException(file, "post_processor.type", $"post-processor '{type}' is not supported.");
        }
    }

    private static void AddTemplate(JsonElement post, List<int> prefix, List<int> suffix, string file)
    {
        var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (post.TryGetProperty("special_tokens", out var st))
        {
            foreach (var p in st.EnumerateObject())
            {
                specials[p.Name] = [.. p.Value.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
            }
        }

        bool seenSequence = false;
        foreach (var item in post.GetProperty("single").EnumerateArray())
        {
            if (item.TryGetProperty("Sequence", out _))
            {
                seenSequence = true;
            }
            else if (item.TryGetProperty("SpecialToken", out var sp))
            {
                string id = sp.GetProperty("id").GetString()!;
                if (!specials.TryGetValue(id, out int[]? ids))
                {
                    throw new ConfigurationException(file, "post_processor.special_tokens", $"'{id}' is not listed.");
                }

                (seenSequence ? suffix : prefix).AddRange(ids);
            }
        }
    }
}
