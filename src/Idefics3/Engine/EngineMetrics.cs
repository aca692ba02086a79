using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Idefics3.Engine;

/// <summary>
/// One engine's instruments on the <see cref="Idefics3Engine.MeterName"/> meter: every measurement carries the engine's
/// <c>idefics3.model</c> tag. The meter comes from <see cref="Idefics3EngineOptions.MeterFactory"/> when one is set (the
/// DI registration sets the container's), else it is the library's shared meter. See docs/metrics.md.
/// </summary>
internal sealed class EngineMetrics
{
    private static readonly Meter s_shared = new(Idefics3Engine.MeterName);
    private static readonly ConditionalWeakTable<Meter, Instruments> s_instruments = [];
    private readonly Instruments _instruments;
    private readonly KeyValuePair<string, object?> _model;

    public EngineMetrics(IMeterFactory? factory, string modelId)
    {
        Meter meter = factory?.Create(new MeterOptions(Idefics3Engine.MeterName)) ?? s_shared;
        _instruments = s_instruments.GetValue(meter, static m => new Instruments(m));
        _model = new KeyValuePair<string, object?>("idefics3.model", modelId);
    }

    /// <summary>A model was loaded (+1) or its memory freed (-1).</summary>
    public void ModelLoaded(int delta) => _instruments.ModelsLoaded.Add(delta, _model);

    /// <summary>A request entered the engine.</summary>
    public void RequestStarted() => _instruments.Requests.Add(1, _model);

    /// <summary>A prompt started (+1) or finished (-1) its preparation under the admission gate.</summary>
    public void Preparing(int delta)
    {
        if (delta > 0)
        {
            _instruments.PromptsPrepared.Add(1, _model);
        }

        _instruments.PromptsPreparing.Add(delta, _model);
    }

    /// <summary>A request's session started (+1) or ended (-1) decoding.</summary>
    public void Decoding(int delta) => _instruments.ActiveDecodes.Add(delta, _model);

    /// <summary>An image went through the vision encoder (a vision-cache miss).</summary>
    public void VisionEncoded() => _instruments.VisionEncodes.Add(1, _model);

    /// <summary>An image's features came from the vision cache.</summary>
    public void VisionCacheHit() => _instruments.VisionCacheHits.Add(1, _model);

    /// <summary>A request reused <paramref name="tokens"/> prompt positions from the prefix (KV) cache.</summary>
    public void PrefixCacheHit(int tokens)
    {
        _instruments.PrefixCacheHits.Add(1, _model);
        _instruments.Tokens.Add(tokens, _model, new KeyValuePair<string, object?>("idefics3.token.type", "cached"));
    }

    /// <summary>A request finished with these token counts.</summary>
    public void RequestFinished(int inputTokens, int outputTokens)
    {
        _instruments.Tokens.Add(inputTokens, _model, new KeyValuePair<string, object?>("idefics3.token.type", "input"));
        _instruments.Tokens.Add(outputTokens, _model, new KeyValuePair<string, object?>("idefics3.token.type", "output"));
    }

    /// <summary>The instruments of one meter, created once per meter.</summary>
    private sealed class Instruments(Meter meter)
    {
        public UpDownCounter<int> ModelsLoaded { get; } = meter.CreateUpDownCounter<int>("idefics3.models.loaded", "{model}", "Models loaded and not yet freed.");

        public Counter<long> Requests { get; } = meter.CreateCounter<long>("idefics3.requests", "{request}", "Requests the engine accepted.");

        public Counter<long> PromptsPrepared { get; } = meter.CreateCounter<long>("idefics3.prompts.prepared", "{prompt}", "Prompts whose preparation (image decoding, tiling, tokenization) started under the admission gate.");

        public UpDownCounter<int> PromptsPreparing { get; } = meter.CreateUpDownCounter<int>("idefics3.prompts.preparing", "{prompt}", "Prompts being prepared now (at most MaxConcurrentRequests).");

        public UpDownCounter<int> ActiveDecodes { get; } = meter.CreateUpDownCounter<int>("idefics3.decodes.active", "{request}", "Requests running prefill or decode now.");

        public Counter<long> VisionEncodes { get; } = meter.CreateCounter<long>("idefics3.vision.encodes", "{image}", "Images encoded by the vision tower (vision-cache misses).");

        public Counter<long> VisionCacheHits { get; } = meter.CreateCounter<long>("idefics3.vision.cache_hits", "{image}", "Images whose features came from the vision cache.");

        public Counter<long> PrefixCacheHits { get; } = meter.CreateCounter<long>("idefics3.prefix_cache.hits", "{request}", "Requests that reused a cached KV prefix.");

        public Counter<long> Tokens { get; } = meter.CreateCounter<long>("idefics3.tokens", "{token}", "Tokens by idefics3.token.type: input (prompt), output (generated), cached (prompt positions reused from the prefix cache).");
    }
}
