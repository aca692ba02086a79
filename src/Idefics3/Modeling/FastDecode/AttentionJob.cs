using Idefics3.Runtime;

namespace Idefics3.Modeling.FastDecode;

/// <summary>
/// The attention of one decode position as parallel parts: (KV head, position range) pairs, each a partial online
/// softmax over the cache in place; <see cref="MergeInto"/> then combines the ranges per query head.
/// </summary>
internal sealed unsafe class AttentionJob : IPartsJob
{
    private readonly int _kvHeads;
    private readonly int _groups;
    private readonly int _headDim;
    private readonly float _scale;
    private readonly float* _partials; // [kvHeads, maxSplits, groups, headDim + 2]
    private readonly int _maxSplits;
    private float* _q;
    private byte* _keys;
    private byte* _values;
    private long _headBytes;
    private bool _isBFloat16;
    private int _length;
    private int _splits;

    /// <summary>Initializes a new instance of the <see cref="AttentionJob"/> class.</summary>
    /// <param name="kvHeads">KV heads.</param>
    /// <param name="groups">Query heads per KV head.</param>
    /// <param name="headDim">Head size.</param>
    /// <param name="partials">Scratch of <see cref="PartialFloats"/> floats.</param>
    /// <param name="maxSplits">The most position ranges per head.</param>
    public AttentionJob(int kvHeads, int groups, int headDim, float* partials, int maxSplits)
    {
        _kvHeads = kvHeads;
        _groups = groups;
        _headDim = headDim;
        _scale = (float)(1.0 / Math.Sqrt(headDim));
        _partials = partials;
        _maxSplits = maxSplits;
    }

    /// <summary>Gets the scratch size the job needs, in floats.</summary>
    /// <param name="kvHeads">KV heads.</param>
    /// <param name="groups">Query heads per KV head.</param>
    /// <param name="headDim">Head size.</param>
    /// <param name="maxSplits">The most position ranges per head.</param>
    /// <returns>The float count.</returns>
    public static long PartialFloats(int kvHeads, int groups, int headDim, int maxSplits) => (long)kvHeads * maxSplits * groups * (headDim + 2);

    /// <summary>Aims the job at one layer's cache; returns the number of parts.</summary>
    /// <param name="q">Query heads [heads, headDim] after RoPE.</param>
    /// <param name="keys">The layer's key buffer [kvHeads, capacity, headDim].</param>
    /// <param name="values">The layer's value buffer.</param>
    /// <param name="capacity">Positions per head in the buffers.</param>
    /// <param name="isBFloat16">The cache element type.</param>
    /// <param name="length">Positions to attend to (the new one included).</param>
    /// <param name="threads">Threads that will run it.</param>
    /// <returns>The part count.</returns>
    public int Prepare(float* q, void* keys, void* values, long capacity, bool isBFloat16, int length, int threads)
    {
        _q = q;
        _keys = (byte*)keys;
        _values = (byte*)values;
        _isBFloat16 = isBFloat16;
        _headBytes = capacity * _headDim * (isBFloat16 ? 2 : 4);
        _length = length;
        // Enough ranges for every thread to get a few parts, none shorter than two blocks.
        int wanted = Math.Max(1, (threads * 4) / _kvHeads);
        _splits = Math.Clamp(Math.Min(wanted, length / (2 * AttentionKernel.Block)), 1, _maxSplits);
        return _kvHeads * _splits;
    }

    /// <inheritdoc />
    public void Execute(int part)
    {
        int kv = part / _splits, split = part % _splits;
        int start = (int)((long)_length * split / _splits), end = (int)((long)_length * (split + 1) / _splits);
        int stride = _headDim + 2;
        float* scores = stackalloc float[_groups * AttentionKernel.Block];
        AttentionKernel.Partial(
            _q + ((long)kv * _groups * _headDim),
            _keys + (kv * _headBytes) + ((long)start * _headDim * (_isBFloat16 ? 2 : 4)),
            _values + (kv * _headBytes) + ((long)start * _headDim * (_isBFloat16 ? 2 : 4)),
            _isBFloat16,
            _groups,
            _headDim,
            0,
            end - start,
            _scale,
            _partials + ((((long)kv * _maxSplits) + split) * _groups * stride),
            scores);
    }

    /// <summary>Combines the ranges into the attention output [heads, headDim].</summary>
    /// <param name="output">The output.</param>
    public void MergeInto(float* output)
    {
        int stride = _headDim + 2;
        for (int kv = 0; kv < _kvHeads; kv++)
        {
            for (int g = 0; g < _groups; g++)
            {
                float* first = _partials + ((((long)kv * _maxSplits * _groups) + g) * stride);
                AttentionKernel.Merge(first, _splits, _groups * stride, _headDim, output + ((((long)kv * _groups) + g) * _headDim));
            }
        }
    }
}
