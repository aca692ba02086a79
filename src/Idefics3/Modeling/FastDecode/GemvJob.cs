using Idefics3.Runtime;

namespace Idefics3.Modeling.FastDecode;

/// <summary>
/// One parallel pass over up to three weight matrices that share an input (q/k/v, or gate/up): their rows are treated
/// as one range cut into parts, so the matrices are read in one dispatch without being copied into a fused weight.
/// Preallocated and re-aimed per call (no allocation per token).
/// </summary>
internal sealed unsafe class GemvJob : IPartsJob
{
    private readonly WeightMatrix[] _matrices = new WeightMatrix[3];
    private readonly nint[] _outputs = new nint[3];
    private int _count;
    private int _totalRows;
    private int _rowsPerPart;
    private float* _x;

    /// <summary>Aims the job at matrices sharing input x; returns the number of parts to run.</summary>
    /// <param name="x">The input [cols].</param>
    /// <param name="threads">Threads that will run it.</param>
    /// <param name="a">The first matrix and its output.</param>
    /// <param name="b">An optional second.</param>
    /// <param name="c">An optional third.</param>
    /// <returns>The part count.</returns>
    public int Prepare(float* x, int threads, (WeightMatrix W, nint Y) a, (WeightMatrix W, nint Y)? b = null, (WeightMatrix W, nint Y)? c = null)
    {
        _x = x;
        _count = 0;
        _totalRows = 0;
        long elements = Add(a);
        elements += b is { } vb ? Add(vb) : 0;
        elements += c is { } vc ? Add(vc) : 0;

        // Small products stay on the caller (a dispatch costs more than they do); large ones get several parts per
        // thread, so a descheduled worker holds up one part, not half the matrix.
        int parts = elements < (1 << 15) ? 1 : Math.Min(threads * 4, Math.Max(1, _totalRows / 16));
        _rowsPerPart = (_totalRows + parts - 1) / parts;
        return (_totalRows + _rowsPerPart - 1) / _rowsPerPart;
    }

    private long Add((WeightMatrix W, nint Y) m)
    {
        _matrices[_count] = m.W;
        _outputs[_count] = m.Y;
        _count++;
        _totalRows += m.W.Rows;
        return (long)m.W.Rows * m.W.Cols;
    }

    /// <inheritdoc />
    public void Execute(int part)
    {
        int first = part * _rowsPerPart;
        int end = Math.Min(_totalRows, first + _rowsPerPart);
        int offset = 0;
        for (int i = 0; i < _count && first < end; i++)
        {
            int rows = _matrices[i].Rows;
            int lo = Math.Max(first, offset) - offset, hi = Math.Min(end, offset + rows) - offset;
            if (lo < hi)
            {
                GemvKernel.Rows(_matrices[i], _x, (float*)_outputs[i], lo, hi);
            }

            offset += rows;
        }
    }
}
