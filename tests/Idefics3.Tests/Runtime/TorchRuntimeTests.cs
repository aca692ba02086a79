using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Tests.Runtime;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void Native_library_loads_and_a_float32_matmul_gives_the_known_product()
    {
        TorchRuntime.EnsureLoaded();
        using var a = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, new long[] { 2, 3 });
        using var b = tensor(new float[] { 7, 8, 9, 10, 11, 12 }, new long[] { 3, 2 });
        using var c = a.matmul(b);

        Assert.Equal(new long[] { 2, 2 }, c.shape);
        Assert.Equal(new float[] { 58, 64, 139, 154 }, c.data<float>().ToArray());
    }

    [Fact]
    public void Bfloat16_matmul_runs_and_rounds_like_bfloat16()
    {
        using var a = tensor(new float[] { 1.5f, -2.25f, 3.0f, 0.5f }, new long[] { 2, 2 }).to(ScalarType.BFloat16);
        using var c = a.matmul(a);
        Assert.Equal(ScalarType.BFloat16, c.dtype);
        using var asFloat = c.to(ScalarType.Float32);
        // [[1.5, -2.25], [3, 0.5]]^2 = [[-4.5, -4.5], [6, -6.5]]: exact in bfloat16.
        Assert.Equal(new float[] { -4.5f, -4.5f, 6.0f, -6.5f }, asFloat.data<float>().ToArray());

        // 1 + 2^-9 is not representable in bfloat16 (8 mantissa bits): it rounds to 1.
        using var fine = tensor(new float[] { 1.0f + (1.0f / 512) }).to(ScalarType.BFloat16).to(ScalarType.Float32);
        Assert.Equal(1.0f, fine.item<float>());
    }

    [Fact]
    public void From_file_maps_a_file_without_copying_and_slices_are_views()
    {
        string path = Path.GetTempFileName();
        try
        {
            float[] values = Enumerable.Range(0, 64).Select(i => (float)i).ToArray();
            File.WriteAllBytes(path, values.SelectMany(BitConverter.GetBytes).ToArray());
            using var mapped = from_file(path, shared: false, size: 64, dtype: ScalarType.Float32);
            using var slice = mapped.narrow(0, 8, 8);
            Assert.Equal(8, slice.storage_offset());
            Assert.Equal(values.Skip(8).Take(8).ToArray(), slice.data<float>().ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
