using Idefics3.Imaging;

namespace Idefics3.Tests.Imaging;

public class LanczosResamplerTests
{
    [Fact]
    public void Same_size_returns_the_source_unchanged()
    {
        var image = new RgbImage(4, 3, new byte[36]);
        Assert.Same(image, LanczosResampler.Resize(image, 4, 3));
    }

    [Fact]
    public void Constant_image_stays_constant_when_up_and_down_sampled()
    {
        var pixels = Enumerable.Repeat((byte)173, 37 * 23 * 3).ToArray();
        var image = new RgbImage(37, 23, pixels);
        Assert.All(LanczosResampler.Resize(image, 101, 11).Pixels, p => Assert.Equal(173, p));
        Assert.All(LanczosResampler.Resize(image, 5, 64).Pixels, p => Assert.Equal(173, p));
    }

    [Fact]
    public void Fixed_point_coefficients_of_each_output_sum_to_one()
    {
        var (bounds, kernel, ksize) = LanczosResampler.Coefficients(1200, 364);
        for (int i = 0; i < 364; i++)
        {
            int sum = 0;
            for (int k = 0; k < bounds[(i * 2) + 1]; k++)
            {
                sum += kernel[(i * ksize) + k];
            }

            Assert.InRange(sum, (1 << 22) - 8, (1 << 22) + 8);
        }
    }
}
