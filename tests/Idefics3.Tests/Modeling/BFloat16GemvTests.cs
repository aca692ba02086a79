using Idefics3.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Tests.Modeling;

public sealed class BFloat16GemvTests
{
    [Theory]
    [InlineData(2048, 512, false)]
    [InlineData(2048, 1024, true)]
    [InlineData(2560, 960, false)]
    public void Single_row_products_match_libtorch_within_bfloat16_rounding(int rows, int cols, bool withBias)
    {
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var generator = new Generator(7);
        Tensor w = randn([rows, cols], generator: generator).mul(0.05).to(ScalarType.BFloat16);
        Tensor x = randn([1, 1, cols], generator: generator).to(ScalarType.BFloat16);
        Tensor? b = withBias ? randn([rows], generator: generator).to(ScalarType.BFloat16) : null;

        Tensor? fast = BFloat16Gemv.TryForward(x, w, b);
        Tensor reference = nn.functional.linear(x.to(ScalarType.Float32), w.to(ScalarType.Float32), b?.to(ScalarType.Float32));

        Assert.NotNull(fast);
        Assert.Equal(new long[] { 1, 1, rows }, fast!.shape);
        Assert.Equal(ScalarType.BFloat16, fast.dtype);
        // Exact float32 products rounded once to bfloat16 (8 significant bits), plus float32 summation order.
        Tensor error = (fast.to(ScalarType.Float32) - reference).abs();
        Tensor allowed = reference.abs() * (1.0 / 128) + 1e-3;
        Assert.True(error.le(allowed).all().item<bool>(), $"max error {error.max().item<float>()}");
    }

    [Fact]
    public void Batches_float32_and_small_weights_are_left_to_libtorch()
    {
        using var scope = NewDisposeScope();
        Tensor w = randn([2048, 512]).to(ScalarType.BFloat16);
        Assert.Null(BFloat16Gemv.TryForward(randn([2, 512]).to(ScalarType.BFloat16), w, null));   // two rows
        Assert.Null(BFloat16Gemv.TryForward(randn([1, 512]), w.to(ScalarType.Float32), null));      // float32
        Assert.Null(BFloat16Gemv.TryForward(randn([1, 64]).to(ScalarType.BFloat16), randn([64, 64]).to(ScalarType.BFloat16), null)); // tiny
    }

    [Theory]
    [InlineData(1.0f, 0x3F80)]
    [InlineData(1.00390625f, 0x3F80)]   // exactly halfway between 0x3F80 and 0x3F81: ties to even
    [InlineData(1.01171875f, 0x3F82)]   // halfway between 0x3F81 and 0x3F82: ties to even (up)
    [InlineData(1.0048828f, 0x3F81)]    // above halfway: rounds up
    [InlineData(-2.5f, 0xC020)]
    public void Float32_rounds_to_the_nearest_even_bfloat16(float value, int expected)
    {
        Assert.Equal((ushort)expected, BFloat16Gemv.ToBFloat16(value));
    }
}
