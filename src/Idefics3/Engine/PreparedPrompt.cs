using Idefics3.Generation;
using TorchSharp;

namespace Idefics3.Engine;

/// <summary>One image of a prepared prompt: where its frames sit and how it is identified in caches.</summary>
/// <param name="CacheKey">Content hash plus every preprocessing setting that changes its pixels.</param>
/// <param name="FirstFrame">Index of its first frame in the prompt's pixel tensor.</param>
/// <param name="FrameCount">Number of frames (tiles plus the global frame).</param>
/// <param name="TokenCount">Number of <c>&lt;image&gt;</c> tokens its frames fill.</param>
internal sealed record PreparedImage(string CacheKey, int FirstFrame, int FrameCount, int TokenCount);

/// <summary>A conversation turned into model inputs, with the images' pixels still on the host.</summary>
internal sealed class PreparedPrompt : IDisposable
{
    public required int[] InputIds { get; init; }

    /// <summary>Gets the pixels [frames, 3, H, W] (float32), or null for a text-only prompt.</summary>
    public torch.Tensor? PixelValues { get; init; }

    /// <summary>Gets the valid-pixel mask [frames, H, W], or null.</summary>
    public torch.Tensor? PixelAttentionMask { get; init; }

    public required IReadOnlyList<PreparedImage> Images { get; init; }

    /// <summary>Gets the request's output constraint (see <see cref="RequestConstraints"/>), or null when decoding is unconstrained.</summary>
    public ITokenConstraint? Constraint { get; init; }

    public int ImageTokens => Images.Sum(i => i.TokenCount);

    public void Dispose()
    {
        PixelValues?.Dispose();
        PixelAttentionMask?.Dispose();
    }
}
