using Idefics3.Modeling;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Tests.Modeling;

/// <summary>
/// The reference paths the HF parity tests compare against: batched greedy decoding with padding (HF <c>generate</c>)
/// and the vision tower's intermediates. They drive the network directly; the library's own decode loop is the session.
/// </summary>
internal static class ReferenceDecoding
{
    /// <summary>Vision intermediates for parity tests: embeddings, each layer, last hidden state, connector output.</summary>
    public static (Tensor Embeddings, Tensor[] Layers, Tensor LastHidden, Tensor Connector) EncodeImagesTraced(this Idefics3ForConditionalGeneration model, Tensor pixelValues, Tensor? pixelAttentionMask)
    {
        using var mode = torch.inference_mode();
        using var scope = torch.NewDisposeScope();
        (Tensor pixels, Tensor mask) = model.RealFrames(pixelValues, pixelAttentionMask);
        var trace = new List<Tensor>();
        Tensor last = model.Module.model.vision_model.forward(pixels, mask, trace);
        Tensor connector = model.Module.model.connector.forward(last);
        scope.MoveToOuter([.. trace, last, connector]);
        return (trace[0], trace.Skip(1).ToArray(), last, connector);
    }

    /// <summary>
    /// Greedy decoding with the KV cache (prefill once, then one token per step), for tests and simple callers.
    /// No stop tokens: exactly <paramref name="maxNewTokens"/> tokens per row.
    /// </summary>
    /// <param name="inputIds">Prompt ids [B, T], left-padded when rows differ in length.</param>
    /// <param name="attentionMask">Prompt mask [B, T] or null (no padding).</param>
    /// <param name="pixelValues">Pixels [B, N, 3, H, W] or [N, 3, H, W], or null for text only.</param>
    /// <param name="pixelAttentionMask">Pixel mask matching <paramref name="pixelValues"/>, or null.</param>
    /// <param name="maxNewTokens">Number of tokens to generate.</param>
    /// <param name="onStepLogits">Called with each step's last-position logits [B, vocab] (valid only during the call).</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    /// <returns>The generated ids per row.</returns>
    public static long[][] GreedyGenerate(
        this Idefics3ForConditionalGeneration model,
        Tensor inputIds,
        Tensor? attentionMask,
        Tensor? pixelValues,
        Tensor? pixelAttentionMask,
        int maxNewTokens,
        Action<int, Tensor>? onStepLogits = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        using var mode = torch.inference_mode();
        long batch = inputIds.shape[0], length = inputIds.shape[1];
        Tensor mask = attentionMask?.to_type(ScalarType.Int64) ?? torch.ones([batch, length], ScalarType.Int64);
        using KvCache cache = model.CreateCache(batch, length + maxNewTokens);
        var result = new List<long>[batch];
        for (int i = 0; i < batch; i++)
        {
            result[i] = [];
        }

        Tensor next;
        Tensor positions;
        using (var scope = torch.NewDisposeScope())
        {
            Tensor embeds = model.EmbedTokens(inputIds);
            if (pixelValues is not null)
            {
                embeds = model.MergeImageFeatures(embeds, inputIds, model.EncodeImages(pixelValues, pixelAttentionMask, cancellationToken));
            }

            positions = Idefics3ForConditionalGeneration.PositionIdsFromAttentionMask(mask);
            Tensor logits = model.Forward(embeds, positions, mask, cache, lastPositionOnly: true).squeeze(1); // [B, V]
            onStepLogits?.Invoke(0, logits);
            next = logits.argmax(-1).MoveToOuterDisposeScope();
            positions = positions.narrow(1, length - 1, 1).MoveToOuterDisposeScope();
        }

        for (int step = 0; ; step++)
        {
            long[] ids = next.data<long>().ToArray();
            for (int i = 0; i < batch; i++)
            {
                result[i].Add(ids[i]);
            }

            if (step + 1 >= maxNewTokens)
            {
                break;
            }

            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            Tensor previousMask = mask, previousPositions = positions, previousNext = next;
            mask = torch.cat([mask, torch.ones([batch, 1], ScalarType.Int64)], 1).MoveToOuterDisposeScope();
            positions = positions.Add(1L).MoveToOuterDisposeScope();
            Tensor logits = model.Forward(model.EmbedTokens(next.view(batch, 1)), positions, mask, cache, lastPositionOnly: true).squeeze(1);
            onStepLogits?.Invoke(step + 1, logits);
            next = logits.argmax(-1).MoveToOuterDisposeScope();
            previousMask.Dispose();
            previousPositions.Dispose();
            previousNext.Dispose();
        }

        mask.Dispose();
        positions.Dispose();
        next.Dispose();

        return [.. result.Select(r => r.ToArray())];
    }
}
