using Idefics3.Engine;
using Idefics3.Generation;
using Microsoft.Extensions.Logging.Abstractions;

namespace Idefics3.Tests.Generation;

/// <summary>
/// A session's collaborators over a loaded engine's model, built as the engine builds its own (with its options' cache
/// sizes), so tests drive <see cref="GenerationSession"/> and wrap the runner directly; dispose to free the caches.
/// </summary>
internal static class SessionServices
{
    public static DecodeServices Over(Idefics3Engine engine) => DecodeServices.Create(
        engine.Network, engine.Tokenizer, engine.EndOfSequenceTokenIds, engine.ModelPath, engine.Options, new EngineMetrics(null, engine.ModelId), NullLogger.Instance);
}
