using Idefics3.Engine;
using TorchSharp;

namespace Idefics3.Tests.Engine;

public sealed class MemoryEstimateTests
{
    [Fact]
    public void Weights_in_the_file_dtype_are_mapped_and_others_are_counted_as_converted_copies()
    {
        // The tiny checkpoint is float32: loading it in float32 maps every byte, in bfloat16 converts every tensor.
        long fileBytes = new FileInfo(Path.Combine(EngineFixture.ModelDirectory, "model.safetensors")).Length;
        (long mapped32, long copied32) = MemoryEstimate.Weights(EngineFixture.ModelDirectory, torch.ScalarType.Float32);
        (long mapped16, long copied16) = MemoryEstimate.Weights(EngineFixture.ModelDirectory, torch.ScalarType.BFloat16);

        Assert.Equal(0, copied32);
        Assert.InRange(mapped32, fileBytes - 100_000, fileBytes);
        Assert.Equal(0, mapped16);
        Assert.Equal(mapped32 / 2, copied16);
    }

    [Fact]
    public void A_model_that_cannot_fit_fails_before_loading_with_the_numbers()
    {
        const long Gb = 1_000_000_000;
        var ex = Assert.Throws<InsufficientMemoryException>(() =>
            MemoryEstimate.ThrowIfTooLarge(mapped: 0, copied: 34 * Gb, total: 24 * Gb, available: 22 * Gb, torch.ScalarType.Float32));
        Assert.Contains("34.0 GB", ex.Message, StringComparison.Ordinal);
        Assert.Contains("24.0 GB of RAM", ex.Message, StringComparison.Ordinal);
        Assert.Contains("checkpoint's own dtype", ex.Message, StringComparison.Ordinal);

        // 17 GB mapped zero-copy fits in 24 GB even with little available memory (mapped pages are page cache).
        MemoryEstimate.ThrowIfTooLarge(mapped: 17 * Gb, copied: 0, total: 24 * Gb, available: 3 * Gb, torch.ScalarType.BFloat16);
    }
}
