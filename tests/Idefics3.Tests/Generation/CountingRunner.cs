using Idefics3.Generation;
using Idefics3.Modeling;
using static TorchSharp.torch;

namespace Idefics3.Tests.Generation;

/// <summary>Drives the real runner and records every forward pass with the logits it produced.</summary>
internal sealed class CountingRunner(IModelRunner inner) : IModelRunner
{
    public int PrefillCalls { get; private set; }

    public int DecodeCalls { get; private set; }

    /// <summary>Gets the logits of every forward pass, in order (the prefill's last position first).</summary>
    public List<float[]> Logits { get; } = [];

    public KvCache CreateCache(int capacity) => inner.CreateCache(capacity);

    public Tensor Prefill(ReadOnlySpan<int> ids, Tensor? imageRows, KvCache cache)
    {
        PrefillCalls++;
        return Record(inner.Prefill(ids, imageRows, cache));
    }

    public Tensor Decode(int token, KvCache cache)
    {
        DecodeCalls++;
        return Record(inner.Decode(token, cache));
    }

    private Tensor Record(Tensor logits)
    {
        Logits.Add(logits.data<float>().ToArray());
        return logits;
    }
}
