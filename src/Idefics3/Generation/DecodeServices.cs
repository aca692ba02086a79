using Idefics3.Caching;
using Idefics3.Engine;
using Idefics3.Modeling;
using Idefics3.Tokenization;
using Microsoft.Extensions.Logging;

namespace Idefics3.Generation;

/// <summary>
/// The shared collaborators of every request's <see cref="GenerationSession"/>; built once by the engine at load with
/// <see cref="Create"/> (tests build their own over a loaded model the same way and drive sessions with them).
/// </summary>
/// <param name="Runner">Prefill and decode step over the network and a KV cache.</param>
/// <param name="VisionFeatures">Image features by image key.</param>
/// <param name="PrefixCache">KV caches of earlier requests by token prefix.</param>
/// <param name="Tokenizer">Detokenizes the output.</param>
/// <param name="EndOfSequenceIds">The ids that end generation (generation config, model config, <c>&lt;end_of_utterance&gt;</c>).</param>
/// <param name="ImageTokenId">The id of the <c>&lt;image&gt;</c> slots that image features fill.</param>
/// <param name="PrefillChunkTokens">How many prompt tokens one prefill pass runs.</param>
/// <param name="Logger">Receives one line per finished request.</param>
internal sealed record DecodeServices(
    IModelRunner Runner,
    VisionFeatureCache VisionFeatures,
    PrefixKvCache PrefixCache,
    HuggingFaceTokenizer Tokenizer,
    IReadOnlySet<int> EndOfSequenceIds,
    int ImageTokenId,
    int PrefillChunkTokens,
    ILogger Logger) : IDisposable
{
    /// <summary>The collaborators over a loaded network: its runner, an image-feature cache and a prefix (KV) cache sized by <paramref name="options"/>.</summary>
    public static DecodeServices Create(
        Idefics3ForConditionalGeneration network,
        HuggingFaceTokenizer tokenizer,
        IReadOnlySet<int> endOfSequenceIds,
        string modelPath,
        Idefics3EngineOptions options,
        EngineMetrics metrics,
        ILogger logger)
    {
        var runner = new ModelRunner(network);
        return new DecodeServices(
            runner,
            new VisionFeatureCache(network, options.VisionCacheBytes, metrics, logger),
            new PrefixKvCache(network, runner, modelPath, options.PrefixCacheBytes, metrics),
            tokenizer,
            endOfSequenceIds,
            network.Config.ImageTokenId,
            options.PrefillChunkTokens,
            logger);
    }

    /// <summary>Frees both caches (entries leased by a running request are freed when their lease ends).</summary>
    public void Dispose()
    {
        VisionFeatures.Dispose();
        PrefixCache.Dispose();
    }
}
