using Idefics3.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Generation;

/// <summary>Runs <see cref="Idefics3ForConditionalGeneration"/> for one sequence (batch 1) over a <see cref="KvCache"/>.</summary>
internal sealed class ModelRunner : IModelRunner
{
    private readonly Idefics3ForConditionalGeneration _network;

    public ModelRunner(Idefics3ForConditionalGeneration network) => _network = network;

    /// <inheritdoc />
    public KvCache CreateCache(int capacity) => _network.CreateCache(1, capacity);

    /// <inheritdoc />
    public Tensor Prefill(ReadOnlySpan<int> ids, Tensor? imageRows, KvCache cache)
    {
        using var scope = NewDisposeScope();
        long start = cache.Length;
        long[] tokenIds = new long[ids.Length];
        long[] positions = new long[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            tokenIds[i] = ids[i];
            positions[i] = start + i;
        }

        Tensor idTensor = torch.tensor(tokenIds, [1, ids.Length]);                             // [1, T]
        Tensor embeds = _network.EmbedTokens(idTensor);                                         // [1, T, H]
        if (imageRows is not null)
        {
            embeds = _network.MergeImageFeatures(embeds, idTensor, imageRows);
        }

        Tensor logits = _network.Forward(embeds, torch.tensor(positions, [1, ids.Length]), null, cache, lastPositionOnly: true); // [1, 1, V]
        return logits.reshape(-1).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor Decode(int token, KvCache cache)
    {
        using var scope = NewDisposeScope();
        Tensor next = torch.tensor(new long[] { token }, [1, 1]);
        Tensor position = torch.tensor(new long[] { cache.Length }, [1, 1]);
        return _network.Forward(_network.EmbedTokens(next), position, null, cache, lastPositionOnly: true).reshape(-1).MoveToOuterDisposeScope();
    }
}
