namespace Idefics3.Processing;

/// <summary>An image part: encoded bytes (PNG, JPEG, WebP, GIF, BMP, TIFF).</summary>
/// <param name="Data">The encoded image.</param>
/// <param name="MediaType">The media type when known (informational; the format is sniffed from the bytes).</param>
public sealed record PromptImage(ReadOnlyMemory<byte> Data, string? MediaType = null) : PromptContent;
