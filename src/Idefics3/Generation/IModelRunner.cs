using Idefics3.Modeling;
using static TorchSharp.torch;

namespace Idefics3.Generation;

/// <summary>
/// The network as the decode loop sees it: prompt positions in (prefill) or one token in (decode step), the next
/// logits out, with the keys and values appended to the request's KV cache. Nothing else of the model is reachable
/// from the loop.
/// </summary>
internal interface IModelRunner
{
    /// <summary>Creates an empty KV cache for one sequence of up to <paramref name="capacity"/> positions.</summary>
    KvCache CreateCache(int capacity);

    /// <summary>
    /// Runs prompt tokens at positions <c>cache.Length..</c>, writing image features over their <c>&lt;image&gt;</c> slots.
    /// </summary>
    /// <param name="ids">The tokens, in order.</param>
    /// <param name="imageRows">Features [n, text_hidden] for the n <c>&lt;image&gt;</c> tokens among <paramref name="ids"/>, or null when there are none.</param>
    /// <param name="cache">The request's cache; extended by <c>ids.Length</c> positions.</param>
    /// <returns>Float32 logits [vocab] of the last position; the caller disposes them.</returns>
    Tensor Prefill(ReadOnlySpan<int> ids, Tensor? imageRows, KvCache cache);

    /// <summary>The decode step: runs one generated token at position <c>cache.Length</c>.</summary>
    /// <param name="token">The token fed back.</param>
    /// <param name="cache">The request's cache; extended by one position.</param>
    /// <returns>Float32 logits [vocab]; the caller disposes them.</returns>
    Tensor Decode(int token, KvCache cache);
}
