namespace Idefics3.Imaging;

/// <summary>
/// The EXIF orientation transposes exactly as Pillow's <c>ImageOps.exif_transpose</c> applies them (tag 0x0112):
/// 2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE, 8 ROTATE_90; any other
/// value (1, missing, out of range) leaves the picture as stored.
/// </summary>
internal static class ExifOrientation
{
    /// <summary>Gets a value indicating whether the orientation swaps width and height (5-8).</summary>
    public static bool SwapsSides(int orientation) => orientation is >= 5 and <= 8;

    /// <summary>
    /// Maps a stored pixel (x, y) of a <paramref name="width"/> x <paramref name="height"/> picture to its displayed
    /// position; the displayed picture is <c>height x width</c> when <see cref="SwapsSides"/>.
    /// </summary>
    public static (int X, int Y) Map(int orientation, int x, int y, int width, int height) => orientation switch
    {
        2 => (width - 1 - x, y),
        3 => (width - 1 - x, height - 1 - y),
        4 => (x, height - 1 - y),
        5 => (y, x),
        6 => (height - 1 - y, x),
        7 => (height - 1 - y, width - 1 - x),
        8 => (y, width - 1 - x),
        _ => (x, y),
    };
}
