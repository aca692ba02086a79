using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Runtime;

/// <summary>
/// Tensor arithmetic with plain numbers that never leaves a TorchSharp <see cref="Scalar"/> to the finalizer.
/// </summary>
/// <remarks>
/// <para>
/// Every TorchSharp operation that takes a number (<c>masked_fill</c>, <c>mul</c>, <c>add</c>, comparisons, <c>arange</c>,
/// <c>full_like</c>, the <c>+ - * /</c> operators) takes it as a native <see cref="Scalar"/>. Written with a literal,
/// C# converts it implicitly into a temporary object that nothing references once its handle has been read: a garbage
/// collection on another thread can finalize it, freeing the native scalar while the kernel still reads it (a process
/// crash, or <c>c10::Scalar::toFloat ... Expected false to be true</c>). Even <c>tensor + tensor</c> makes one: TorchSharp's
/// <c>add(Tensor)</c> passes an implicit <c>alpha = 1</c>.
/// </para>
/// <para>
/// Each method here holds its scalar in a <c>using</c> variable for the duration of the native call, or uses the cached
/// <c>1</c>, which lives for the process. The number's C# type is kept: a <see cref="long"/> stays an integral scalar
/// (an int64 tensor stays int64), a <see cref="double"/> a floating one. Temporary tensors are the caller's business:
/// run inside a dispose scope, or dispose them.
/// </para>
/// </remarks>
internal static class ScalarMath
{
    // Never disposed: a process-lifetime constant, so it can never be finalized while a kernel reads it.
    private static readonly Scalar s_one = 1.ToScalar();

    /// <summary><c>a + b</c> (TorchSharp's operator would create an implicit <c>alpha</c>).</summary>
    public static Tensor Add(this Tensor a, Tensor b) => a.add(b, s_one);

    /// <summary><c>a + b</c> in place.</summary>
    public static Tensor AddInPlace(this Tensor a, Tensor b) => a.add_(b, s_one);

    /// <summary><c>a + value</c>, floating.</summary>
    public static Tensor Add(this Tensor a, double value)
    {
        using Scalar s = value.ToScalar();
        return a.add(s, s_one);
    }

    /// <summary><c>a + value</c>, integral.</summary>
    public static Tensor Add(this Tensor a, long value)
    {
        using Scalar s = value.ToScalar();
        return a.add(s, s_one);
    }

    /// <summary><c>a - value</c>, floating.</summary>
    public static Tensor Sub(this Tensor a, double value)
    {
        using Scalar s = value.ToScalar();
        return a.sub(s);
    }

    /// <summary><c>a - value</c>, integral.</summary>
    public static Tensor Sub(this Tensor a, long value)
    {
        using Scalar s = value.ToScalar();
        return a.sub(s);
    }

    /// <summary><c>a * value</c>, floating.</summary>
    public static Tensor Mul(this Tensor a, double value)
    {
        using Scalar s = value.ToScalar();
        return a.mul(s);
    }

    /// <summary><c>a * value</c>, integral.</summary>
    public static Tensor Mul(this Tensor a, long value)
    {
        using Scalar s = value.ToScalar();
        return a.mul(s);
    }

    /// <summary><c>a *= value</c> in place.</summary>
    public static Tensor MulInPlace(this Tensor a, double value)
    {
        using Scalar s = value.ToScalar();
        return a.mul_(s);
    }

    /// <summary><c>a / value</c>.</summary>
    public static Tensor Div(this Tensor a, double value)
    {
        using Scalar s = value.ToScalar();
        return a.div(s);
    }

    /// <summary><c>a ** exponent</c>, integral exponent.</summary>
    public static Tensor Pow(this Tensor a, long exponent)
    {
        using Scalar s = exponent.ToScalar();
        return a.pow(s);
    }

    /// <summary><c>a == value</c>.</summary>
    public static Tensor Eq(this Tensor a, long value)
    {
        using Scalar s = value.ToScalar();
        return a.eq(s);
    }

    /// <summary><c>a != value</c>.</summary>
    public static Tensor Ne(this Tensor a, long value)
    {
        using Scalar s = value.ToScalar();
        return a.ne(s);
    }

    /// <summary><c>a &gt; value</c>.</summary>
    public static Tensor Gt(this Tensor a, double value)
    {
        using Scalar s = value.ToScalar();
        return a.gt(s);
    }

    /// <summary><c>a &gt;= value</c>.</summary>
    public static Tensor Ge(this Tensor a, double value)
    {
        using Scalar s = value.ToScalar();
        return a.ge(s);
    }

    /// <summary><c>a &lt; value</c>.</summary>
    public static Tensor Lt(this Tensor a, double value)
    {
        using Scalar s = value.ToScalar();
        return a.lt(s);
    }

    /// <summary>A copy of <paramref name="a"/> with <paramref name="value"/> where <paramref name="mask"/> is true.</summary>
    public static Tensor MaskedFill(this Tensor a, Tensor mask, double value)
    {
        using Scalar s = value.ToScalar();
        return a.masked_fill(mask, s);
    }

    /// <summary>A copy of <paramref name="a"/> with the integral <paramref name="value"/> where <paramref name="mask"/> is true.</summary>
    public static Tensor MaskedFill(this Tensor a, Tensor mask, long value)
    {
        using Scalar s = value.ToScalar();
        return a.masked_fill(mask, s);
    }

    /// <summary>A copy of <paramref name="a"/> with <paramref name="value"/> at <paramref name="index"/> along <paramref name="dim"/>.</summary>
    public static Tensor IndexFill(this Tensor a, long dim, Tensor index, double value)
    {
        using Scalar s = value.ToScalar();
        return a.index_fill(dim, index, s);
    }

    /// <summary>A tensor shaped like <paramref name="like"/> filled with <paramref name="value"/>.</summary>
    public static Tensor FullLike(Tensor like, double value)
    {
        using Scalar s = value.ToScalar();
        return torch.full_like(like, s);
    }

    /// <summary><c>arange(start, stop)</c> of integers.</summary>
    public static Tensor Arange(long start, long stop, ScalarType dtype, Device? device = null)
    {
        using Scalar from = start.ToScalar();
        using Scalar to = stop.ToScalar();
        return torch.arange(from, to, s_one, dtype, device);
    }

    /// <summary><c>arange(start, stop, step)</c> of integers.</summary>
    public static Tensor Arange(long start, long stop, long step, ScalarType dtype, Device? device = null)
    {
        using Scalar from = start.ToScalar();
        using Scalar to = stop.ToScalar();
        using Scalar by = step.ToScalar();
        return torch.arange(from, to, by, dtype, device);
    }

    /// <summary><c>arange(start, stop, step)</c> computed in double precision (as PyTorch does for floating bounds).</summary>
    public static Tensor Arange(double start, double stop, double step, ScalarType dtype, Device? device = null)
    {
        using Scalar from = start.ToScalar();
        using Scalar to = stop.ToScalar();
        using Scalar by = step.ToScalar();
        return torch.arange(from, to, by, dtype, device);
    }
}
