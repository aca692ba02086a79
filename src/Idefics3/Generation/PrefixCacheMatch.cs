namespace Idefics3.Generation;

/// <summary>
/// A cached entry found by <see cref="PrefixCacheIndex{TValue}.FindLongest"/>, leased until disposed: the value stays
/// valid (it is not released by the cache) until this match is disposed.
/// </summary>
/// <typeparam name="TValue">The cached value type, for example a key/value cache.</typeparam>
internal sealed class PrefixCacheMatch<TValue> : IDisposable
{
    private readonly IDisposable _lease;

    internal PrefixCacheMatch(TValue value, TokenPrefix cachedTokens, int matchedLength, IDisposable lease)
    {
        Value = value;
        CachedTokens = cachedTokens;
        MatchedLength = matchedLength;
        _lease = lease;
    }

    /// <summary>Gets the cached value. Callers must not change it in place if others may reuse it; copy or truncate a copy.</summary>
    public TValue Value { get; }

    /// <summary>Gets the token sequence the cached value was computed for.</summary>
    public TokenPrefix CachedTokens { get; }

    /// <summary>
    /// Gets the number of leading tokens of the request that the cached value covers (the longest common prefix). The
    /// caller reuses the first <c>MatchedLength</c> positions and must still compute at least the request's last token
    /// to obtain logits.
    /// </summary>
    public int MatchedLength { get; }

    /// <summary>Gets a value indicating whether the whole cached sequence is a prefix of the request (no truncation needed).</summary>
    public bool IsFullPrefix => MatchedLength == CachedTokens.Length;

    /// <summary>Releases the lease on the value.</summary>
    public void Dispose() => _lease.Dispose();
}
