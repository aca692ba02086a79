using System.Diagnostics;
using Idefics3.Generation;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Tests.Runtime;

public sealed class ScalarMathTests
{
    [Fact]
    public void Integral_scalars_keep_integer_tensors_integral_and_floating_ones_keep_the_dtype()
    {
        using var scope = torch.NewDisposeScope();
        Tensor ints = torch.tensor(new long[] { 1, 2, 3 });
        Tensor shifted = ints.Sub(1L).MaskedFill(ints.Eq(2), 7L).Mul(2L).Add(1L);
        Assert.Equal(ScalarType.Int64, shifted.dtype);
        Assert.Equal(new long[] { 1, 15, 5 }, shifted.data<long>().ToArray());

        Tensor floats = torch.tensor(new float[] { -2f, 0.5f, 4f });
        Assert.Equal(new[] { float.NegativeInfinity, 0.5f, 4f }, floats.MaskedFill(floats.Lt(0), float.NegativeInfinity).data<float>().ToArray());
        Assert.Equal(new[] { -1f, 0.25f, 2f }, floats.Div(2).data<float>().ToArray());
        Assert.Equal(new[] { 4f, 0.25f, 16f }, floats.Pow(2).data<float>().ToArray());
        Assert.Equal(new[] { -2f, 1.5f, 5f }, floats.Add(floats.Ge(0.5).to_type(ScalarType.Float32).Add(1.0)).Sub(1.0).data<float>().ToArray());
        Assert.Equal(new long[] { 2, 4, 6 }, ScalarMath.Arange(2, 7, 2, ScalarType.Int64).data<long>().ToArray());
        Assert.Equal(new long[] { 3, 4 }, ScalarMath.Arange(3, 5, ScalarType.Int64).data<long>().ToArray());
    }

    [Fact]
    public void Masked_fill_and_top_p_sampling_stay_exact_while_other_threads_force_collections()
    {
        // The path that crashed: masked_fill with negative infinity (top-p, min-p) on a per-token path. Under constant
        // collections each call must give the reference result; a scalar freed mid-call gives a native error or garbage.
        float[] logits = [.. Enumerable.Range(0, 512).Select(i => MathF.Sin(i * 0.37f) * 4f)];
        using Tensor row = torch.tensor(logits);
        using Tensor below = row.Lt(0);
        float[] expectedFill = [.. logits.Select(v => v < 0 ? float.NegativeInfinity : v)];
        var options = new GenerationOptions { Temperature = 0.7f, TopP = 0.8f, MinP = 0.05f, RepetitionPenalty = 1.3f, Seed = 11 };
        int[] Sample()
        {
            using var sampler = new LogitsSampler(options, [1, 2, 3]);
            return [.. Enumerable.Range(0, 8).Select(_ => sampler.Sample(row).TokenId)];
        }

        int[] reference = Sample();
        long calls = 0;
        long collections;
        using (var pressure = new GcPressure())
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(3))
            {
                using (var scope = torch.NewDisposeScope())
                {
                    Assert.Equal(expectedFill, row.MaskedFill(below, float.NegativeInfinity).data<float>().ToArray());
                }

                Assert.Equal(reference, Sample());
                calls++;
            }

            collections = pressure.Collections;
        }

        Assert.True(calls > 0 && collections > 0, $"{calls} calls under {collections} collections");
    }
}
