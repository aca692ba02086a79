namespace Idefics3.Checkpoints;

/// <summary>One tensor described by a safetensors header.</summary>
/// <param name="Name">The tensor name as stored in the file.</param>
/// <param name="Dtype">The safetensors dtype string (F32, BF16, ...).</param>
/// <param name="Shape">The shape.</param>
/// <param name="Begin">The start offset in bytes, relative to the end of the header.</param>
/// <param name="End">The end offset in bytes (exclusive), relative to the end of the header.</param>
internal sealed record SafetensorsEntry(string Name, string Dtype, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>Gets the number of elements.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
