using System.Globalization;
using System.Text;

namespace Idefics3.Processing;

/// <summary>Hugging Face's Idefics3 prompt expansion: each <c>&lt;image&gt;</c> becomes its tile/global block.</summary>
internal static class ImagePromptBuilder
{
    /// <summary>The placeholder the chat template renders for an image.</summary>
    public const string ImageToken = "<image>";

    /// <summary>The marker around image blocks.</summary>
    public const string FakeToken = "<fake_token_around_image>";

    /// <summary>The marker of the global frame.</summary>
    public const string GlobalImageToken = "<global-img>";

    /// <summary>Builds the block of one image (<c>get_image_prompt_string</c>).</summary>
    /// <param name="rows">Tile rows (0 for a single frame).</param>
    /// <param name="cols">Tile columns (0 for a single frame).</param>
    /// <param name="imageSeqLen">Image tokens per frame.</param>
    /// <returns>The block text.</returns>
    public static string ImageBlock(int rows, int cols, int imageSeqLen)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageSeqLen);
        string images = string.Concat(Enumerable.Repeat(ImageToken, imageSeqLen));
        if (rows == 0 && cols == 0)
        {
            return FakeToken + GlobalImageToken + images + FakeToken;
        }

        var sb = new StringBuilder();
        for (int r = 1; r <= rows; r++)
        {
            for (int c = 1; c <= cols; c++)
            {
                sb.Append(FakeToken).Append(CultureInfo.InvariantCulture, $"<row_{r}_col_{c}>").Append(images);
            }

            sb.Append('\n');
        }

        sb.Append('\n').Append(FakeToken).Append(GlobalImageToken).Append(images).Append(FakeToken);
        return sb.ToString();
    }

    /// <summary>Replaces the <c>&lt;image&gt;</c> placeholders of a prompt, left to right, by the blocks of the images.</summary>
    /// <param name="prompt">The prompt with placeholders.</param>
    /// <param name="grids">Rows and columns of each image, in order.</param>
    /// <param name="imageSeqLen">Image tokens per frame.</param>
    /// <returns>The expanded prompt.</returns>
    /// <exception cref="ImagePlaceholderMismatchException">The number of placeholders differs from the number of images.</exception>
    public static string Expand(string prompt, IReadOnlyList<(int Rows, int Cols)> grids, int imageSeqLen)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(grids);
        string[] parts = prompt.Split(ImageToken);
        int placeholders = parts.Length - 1;
        if (placeholders != grids.Count)
        {
            throw new ImagePlaceholderMismatchException(placeholders, grids.Count);
        }

        var sb = new StringBuilder(parts[0]);
        for (int i = 0; i < grids.Count; i++)
        {
            sb.Append(ImageBlock(grids[i].Rows, grids[i].Cols, imageSeqLen)).Append(parts[i + 1]);
        }

        return sb.ToString();
    }
}
