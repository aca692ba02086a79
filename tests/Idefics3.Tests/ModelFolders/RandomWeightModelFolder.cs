using System.Globalization;
using Idefics3.Diagnostics;

namespace Idefics3.Tests;

/// <summary>
/// A model folder made of genuine processor and tokenizer files plus random bfloat16 weights with the exact tensor names
/// and shapes of a real checkpoint (read from the approved parameter list, one <c>name [d0, d1]</c> per line).
/// </summary>
/// <remarks>
/// Weights are written by the library's <see cref="RandomSafetensorsWriter"/> (as the CLI benchmark writes them): uniform
/// with standard deviation 0.02, norm weights 1 and biases 0.
/// <para>To make answers deterministic without trained weights, <c>transitions</c> turns the text model into a bigram
/// machine: for each pair (from, to), the embedding of <c>from</c> gets a large value in a dimension of its own and
/// <c>lm_head</c>'s row of <c>to</c> reads that dimension. The residual stream of the last position is dominated by its
/// input token, so greedy decoding after <c>from</c> picks <c>to</c>; a chain such as ':' → "Hello" → &lt;|im_end|&gt; →
/// " world" → &lt;end_of_utterance&gt; fixes a whole answer and where it has to stop.</para>
/// </remarks>
internal static class RandomWeightModelFolder
{
    /// <summary>Names the way weights are written; change it whenever this class writes different bytes (folders are cached by it).</summary>
    public const string Version = "bigram-v1";

    private const float EmbeddingMark = 8f;
    private const float HeadWeight = 4f;

    /// <summary>Writes <c>model.safetensors</c> into <paramref name="folder"/>.</summary>
    /// <param name="folder">The model folder (config and tokenizer files already there).</param>
    /// <param name="parameterList">The approved parameter list of the checkpoint.</param>
    /// <param name="transitions">Token pairs (from, to) the greedy answer must follow.</param>
    public static void WriteWeights(string folder, string parameterList, IReadOnlyList<(int From, int To)> transitions)
    {
        var tensors = File.ReadAllLines(parameterList).Where(l => l.Length > 0).Select(Parse).ToList();
        long hidden = tensors.Single(t => t.Name == "lm_head.weight").Shape[1];
        var marks = new Dictionary<string, SortedDictionary<long, float>>(StringComparer.Ordinal)
        {
            ["model.text_model.embed_tokens.weight"] = [],
            ["lm_head.weight"] = [],
        };
        for (int dim = 0; dim < transitions.Count; dim++)
        {
            (int from, int to) = transitions[dim];
            marks["model.text_model.embed_tokens.weight"][(from * hidden) + dim] = EmbeddingMark;
            marks["lm_head.weight"][(to * hidden) + dim] = HeadWeight;
        }

        RandomSafetensorsWriter.Write(Path.Combine(folder, "model.safetensors"), tensors, marks);
    }

    private static (string Name, long[] Shape) Parse(string line)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        long[] shape = line[(space + 1)..].Trim('[', ']').Split(',').Select(s => long.Parse(s.Trim(), CultureInfo.InvariantCulture)).ToArray();
        return (line[..space], shape);
    }
}
