namespace Idefics3.Generation;

/// <summary>
/// An immutable token sequence as a prefix cache sees it: text tokens compare by id, image placeholder tokens by id
/// AND the content hash of the image they stand for, so two prompts that differ only in their images do not share
/// the image positions. Equality and hashing are by content.
/// </summary>
internal sealed class TokenPrefix : IEquatable<TokenPrefix>
{
    private readonly int[] _ids;
    private readonly int[] _imageIndex; // per position: index into _imageHashes, or -1 for a text token
    private readonly string[] _imageHashes;
    private readonly int _hash;

    /// <summary>Initializes a new instance of the <see cref="TokenPrefix"/> class for a text-only sequence.</summary>
    /// <param name="tokenIds">The token ids.</param>
    public TokenPrefix(ReadOnlySpan<int> tokenIds)
        : this(tokenIds.ToArray(), new int[tokenIds.Length].AsSpan(), [])
    {
    }

    private TokenPrefix(int[] ids, Span<int> imageIndex, string[] imageHashes)
    {
        _ids = ids;
        _imageHashes = imageHashes;
        if (imageHashes.Length == 0)
        {
            imageIndex.Fill(-1);
        }

        _imageIndex = imageIndex.ToArray();
        var hash = default(HashCode);
        for (int i = 0; i < ids.Length; i++)
        {
            hash.Add(ids[i]);
            hash.Add(_imageIndex[i] < 0 ? null : imageHashes[_imageIndex[i]], StringComparer.Ordinal);
        }

        _hash = hash.ToHashCode();
    }

    /// <summary>Gets the number of tokens.</summary>
    public int Length => _ids.Length;

    /// <summary>Gets the token ids.</summary>
    public ReadOnlySpan<int> TokenIds => _ids;

    /// <summary>Gets the number of images the sequence refers to.</summary>
    public int ImageCount => _imageHashes.Length;

    /// <summary>Gets an estimate of the managed memory this instance holds, in bytes (for cache accounting).</summary>
    public long EstimatedBytes => 64 + (8L * _ids.Length) + _imageHashes.Sum(h => 32L + (2L * h.Length));

    /// <summary>
    /// Creates a sequence with images: the image placeholder tokens (<paramref name="imageTokenId"/>) are assigned, in
    /// order, to the images: the first <c>imageTokenCounts[0]</c> to image 0, the next ones to image 1, and so on.
    /// </summary>
    /// <param name="tokenIds">The token ids, image placeholders included.</param>
    /// <param name="imageTokenId">The id of the image placeholder token.</param>
    /// <param name="imageHashes">A content hash per image, in prompt order (also of the preprocessing settings if they change the tokens' features).</param>
    /// <param name="imageTokenCounts">The number of placeholder tokens per image, in prompt order.</param>
    /// <returns>The sequence.</returns>
    /// <exception cref="ArgumentException">
    /// The lists differ in length, a hash is null or empty, a count is below 1, or the counts do not add up to the
    /// number of placeholder tokens.
    /// </exception>
    public static TokenPrefix Create(ReadOnlySpan<int> tokenIds, int imageTokenId, IReadOnlyList<string> imageHashes, IReadOnlyList<int> imageTokenCounts)
    {
        ArgumentNullException.ThrowIfNull(imageHashes);
        ArgumentNullException.ThrowIfNull(imageTokenCounts);
        if (imageHashes.Count != imageTokenCounts.Count)
        {
            throw new ArgumentException($"Got {imageHashes.Count} image hashes but {imageTokenCounts.Count} image token counts.", nameof(imageTokenCounts));
        }

        if (imageHashes.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Image hashes must not be null or empty.", nameof(imageHashes));
        }

        if (imageTokenCounts.Any(c => c < 1))
        {
            throw new ArgumentException("Every image must have at least one placeholder token.", nameof(imageTokenCounts));
        }

        var index = new int[tokenIds.Length];
        int image = 0;
        int usedInImage = 0;
        for (int i = 0; i < tokenIds.Length; i++)
        {
            if (tokenIds[i] != imageTokenId)
            {
                index[i] = -1;
                continue;
            }

            if (image >= imageTokenCounts.Count)
            {
                throw new ArgumentException("The sequence has more image placeholder tokens than the image token counts add up to.", nameof(imageTokenCounts));
            }

            index[i] = image;
            if (++usedInImage == imageTokenCounts[image])
            {
                image++;
                usedInImage = 0;
            }
        }

        if (image != imageTokenCounts.Count)
        {
            throw new ArgumentException("The sequence has fewer image placeholder tokens than the image token counts add up to.", nameof(imageTokenCounts));
        }

        return new TokenPrefix(tokenIds.ToArray(), index, [.. imageHashes]);
    }

    /// <summary>Gets the number of leading positions at which this sequence and <paramref name="other"/> are equal.</summary>
    /// <param name="other">The other sequence.</param>
    /// <returns>The length of the longest common prefix.</returns>
    public int CommonPrefixLength(TokenPrefix other)
    {
        ArgumentNullException.ThrowIfNull(other);
        int n = Math.Min(_ids.Length, other._ids.Length);
        int common = _ids.AsSpan(0, n).CommonPrefixLength(other._ids.AsSpan(0, n));
        for (int i = 0; i < common; i++)
        {
            int a = _imageIndex[i];
            int b = other._imageIndex[i];
            if ((a < 0) != (b < 0) || (a >= 0 && !string.Equals(_imageHashes[a], other._imageHashes[b], StringComparison.Ordinal)))
            {
                return i;
            }
        }

        return common;
    }

    /// <summary>Gets a value indicating whether this sequence is a prefix of (or equal to) <paramref name="other"/>.</summary>
    /// <param name="other">The other sequence.</param>
    /// <returns><see langword="true"/> when every position of this sequence equals the same position of <paramref name="other"/>.</returns>
    public bool IsPrefixOf(TokenPrefix other) => CommonPrefixLength(other) == Length;

    /// <inheritdoc/>
    public bool Equals(TokenPrefix? other) =>
        other is not null && (ReferenceEquals(this, other) || (_hash == other._hash && Length == other.Length && IsPrefixOf(other)));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as TokenPrefix);

    /// <inheritdoc/>
    public override int GetHashCode() => _hash;
}
