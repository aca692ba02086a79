using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Idefics3.Tokenization;

namespace Idefics3.Cli.Bench;

/// <summary>
/// Tokenizer encode throughput on text the tokenizer has not seen (a freshly loaded tokenizer, so its word cache is
/// cold, on generated text whose words are mostly new), and again on the same text with the cache warm, for the
/// SmolVLM vocabulary (SmolLM2 BPE, Digits + ByteLevel) and the Llama 3 vocabulary (Idefics3-8B, Split regex + ignore_merges).
/// </summary>
internal static class TokenizerThroughput
{
    /// <summary>One measured rate.</summary>
    /// <param name="Name">What was measured.</param>
    /// <param name="TokensPerSecond">One value per repetition.</param>
    internal sealed record Rate(string Name, double[] TokensPerSecond);

    /// <summary>Measures both vocabularies.</summary>
    /// <param name="repeats">Repetitions (each on a new tokenizer and new text).</param>
    /// <param name="characters">Characters of text per repetition.</param>
    /// <returns>The rates: cold and warm, per vocabulary.</returns>
    public static IReadOnlyList<Rate> Measure(int repeats, int characters = 200_000)
    {
        var rates = new List<Rate>();
        foreach ((string name, string resource) in new[] { ("SmolVLM", "smolvlm-tokenizer.json.gz"), ("Llama 3", "llama3-tokenizer.json.gz") })
        {
            string json = ReadGzipResource(resource);
            var cold = new double[repeats];
            var warm = new double[repeats];
            int tokens = 0;
            for (int r = 0; r < repeats; r++)
            {
                HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.FromJson(json);
                string text = UnseenText(characters, seed: r + 1);
                var sw = Stopwatch.StartNew();
                tokens = tokenizer.Encode(text).Length;
                cold[r] = tokens / sw.Elapsed.TotalSeconds;
                sw.Restart();
                tokenizer.Encode(text);
                warm[r] = tokens / sw.Elapsed.TotalSeconds;
            }

            rates.Add(new Rate($"tokenizer encode {name}, unseen text ({tokens} tokens)", cold));
            rates.Add(new Rate($"tokenizer encode {name}, same text again (warm cache)", warm));
        }

        return rates;
    }

    /// <summary>Generated prose: invented words from syllables (mostly unique), numbers, punctuation, some CJK, accents and emoji.</summary>
    private static string UnseenText(int characters, int seed)
    {
        string[] syllables = ["ka", "lo", "mi", "ter", "an", "is", "vor", "ple", "stra", "que", "zu", "ne", "rho", "bel", "dü", "ça", "ño", "th", "ing", "ed"];
        string[] extras = ["ÄÖÜ", "中文", "日本語", "🙂", "👍🏽", "—", "€", "Ж", "ψ"];
        var random = new Random(seed);
        var text = new StringBuilder(characters + 64);
        while (text.Length < characters)
        {
            int kind = random.Next(20);
            if (kind < 15)
            {
                if (random.Next(6) == 0)
                {
                    text.Append(char.ToUpperInvariant(syllables[random.Next(syllables.Length)][0]));
                }

                for (int s = random.Next(1, 5); s > 0; s--)
                {
                    text.Append(syllables[random.Next(syllables.Length)]);
                }
            }
            else if (kind < 17)
            {
                text.Append(random.Next(100_000));
            }
            else if (kind < 18)
            {
                text.Append(extras[random.Next(extras.Length)]);
            }
            else
            {
                text.Append(random.Next(3) switch { 0 => ",", 1 => ".", _ => "\n" });
            }

            text.Append(' ');
        }

        return text.ToString();
    }

    private static string ReadGzipResource(string name)
    {
        using var gz = new GZipStream(BenchModelFolder.OpenResource(name), CompressionMode.Decompress);
        using var reader = new StreamReader(gz, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
