namespace Idefics3.Modeling.FastDecode;

/// <summary>
/// A row-major weight matrix [rows, cols] read in place from the memory TorchSharp owns (a memory-mapped checkpoint
/// tensor): bfloat16 (<see cref="IsBFloat16"/>) or float32 elements. Valid while the model's parameters live.
/// </summary>
internal readonly unsafe struct WeightMatrix(void* data, int rows, int cols, bool isBFloat16)
{
    /// <summary>Gets the first element.</summary>
    public void* Data { get; } = data;

    /// <summary>Gets the number of rows (output features).</summary>
    public int Rows { get; } = rows;

    /// <summary>Gets the number of columns (input features).</summary>
    public int Cols { get; } = cols;

    /// <summary>Gets a value indicating whether elements are bfloat16 (else float32).</summary>
    public bool IsBFloat16 { get; } = isBFloat16;

    /// <summary>Gets the bytes one full pass over the matrix reads.</summary>
    public long Bytes => (long)Rows * Cols * (IsBFloat16 ? 2 : 4);

    /// <summary>Reads element [row, col] as float32 (for embedding rows and small vectors).</summary>
    public float this[long row, int col] => IsBFloat16
        ? BitConverter.Int32BitsToSingle(((ushort*)Data)[(row * Cols) + col] << 16)
        : ((float*)Data)[(row * Cols) + col];
}
