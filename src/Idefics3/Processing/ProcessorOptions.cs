using Idefics3.Imaging;

namespace Idefics3.Processing;

/// <summary>Per-call options of <see cref="Idefics3Processor"/>; null values fall back to the checkpoint's files.</summary>
public sealed record ProcessorOptions
{
    /// <summary>Gets whether images are split into tiles plus a global frame; null uses <c>do_image_splitting</c>.</summary>
    public bool? DoImageSplitting { get; init; }

    /// <summary>
    /// Gets the longest edge of the first resize; null uses <c>size.longest_edge</c>. Model cards express it as
    /// <c>size={"longest_edge": N*364}</c> (Idefics3) or <c>N*512</c> / <c>N*384</c> (SmolVLM): N tiles per long side.
    /// </summary>
    public int? LongestEdge { get; init; }

    /// <summary>Gets how transparent pixels are flattened (default: composite on white; see docs/processor.md).</summary>
    public AlphaHandling AlphaHandling { get; init; } = AlphaHandling.CompositeOnWhite;

    /// <summary>Gets the largest accepted image (width x height), checked from the header before decoding.</summary>
    public long MaxImagePixels { get; init; } = ImageDecodeOptions.DefaultMaxPixels;

    /// <summary>
    /// Gets a value indicating whether the legacy double BOS is produced: the tokenizer's BOS rule is applied even when
    /// the rendered prompt already starts with the template's BOS literal (what <c>processor(text=apply_chat_template(...))</c>
    /// does in transformers 4.47 for Idefics3-8B: <c>[128000, 128000, ...]</c>). Default false: a single BOS.
    /// </summary>
    public bool LegacyDoubleBos { get; init; }
}
