namespace Idefics3.Processing;

/// <summary>What one image became.</summary>
/// <param name="Rows">Tile rows (0 when the image is a single frame).</param>
/// <param name="Cols">Tile columns (0 when the image is a single frame).</param>
/// <param name="FrameCount">Frames (tiles + global, or 1).</param>
/// <param name="ContentHash">SHA-256 (hex) of the encoded bytes.</param>
/// <param name="Width">Decoded width (after EXIF orientation).</param>
/// <param name="Height">Decoded height (after EXIF orientation).</param>
public sealed record PromptImageInfo(int Rows, int Cols, int FrameCount, string ContentHash, int Width, int Height);
