namespace Idefics3.Imaging;

/// <summary>
/// The sizes an image goes through in the Idefics3 image processor, computable from the image size alone (no pixels):
/// the longest-edge resize, the resize to multiples of the tile edge, and the resulting tile grid.
/// </summary>
/// <param name="ResizedWidth">Width after the longest-edge resize (step 1).</param>
/// <param name="ResizedHeight">Height after the longest-edge resize (step 1).</param>
/// <param name="SplitWidth">Width after step 2 (multiples of the tile edge, or the square tile when not splitting).</param>
/// <param name="SplitHeight">Height after step 2.</param>
/// <param name="Rows">Tile rows (0 when the image is a single frame).</param>
/// <param name="Cols">Tile columns (0 when the image is a single frame).</param>
/// <param name="TileWidth">Width of one tile (the frame width when there are no tiles).</param>
/// <param name="TileHeight">Height of one tile (the frame height when there are no tiles).</param>
internal sealed record ImageLayout(int ResizedWidth, int ResizedHeight, int SplitWidth, int SplitHeight, int Rows, int Cols, int TileWidth, int TileHeight)
{
    /// <summary>Gets the number of frames: rows x cols tiles plus the global frame, or 1.</summary>
    public int FrameCount => Rows * Cols > 0 ? (Rows * Cols) + 1 : 1;
}
