using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>
/// NaViT-style patch mask and position ids of the Idefics3 vision embeddings, with the ORIGINAL bucketing of
/// transformers ≤ 4.54 (and v5): the valid nh×nw top-left region samples rows/columns of the N×N position grid
/// through <c>bucketize(arange(0, 1-1e-6, 1/n), arange(1/N, 1, 1/N), right=True)</c>; padded patches get id 0.
/// </summary>
internal static class VisionPositionIds
{
    /// <summary>pixel mask [F, H, W] (any dtype, nonzero = valid) -> patch mask [F, N, N] bool: any valid pixel in the patch.</summary>
    public static Tensor PatchMask(Tensor pixelMask, long patch, long patchesPerSide)
    {
        // unfold drops trailing pixels that do not fill a patch (e.g. 384 = 27*14 + 6)
        using Tensor m = pixelMask.to_type(ScalarType.Float32);
        using Tensor rows = m.unfold(1, patch, patch);          // [F, N, W, P]
        using Tensor tiles = rows.unfold(2, patch, patch);      // [F, N, N, P, P]
        using Tensor sums = tiles.sum([-1, -2]);               // [F, N, N]
        Tensor result = sums.Gt(0);
        if (result.shape[1] != patchesPerSide || result.shape[2] != patchesPerSide)
        {
            throw new ArgumentException($"pixel mask gives a {result.shape[1]}x{result.shape[2]} patch grid, the model expects {patchesPerSide}x{patchesPerSide}");
        }

        return result;
    }

    /// <summary>patch mask [F, N, N] bool -> position ids [F, N*N] long.</summary>
    public static Tensor Compute(Tensor patchMask)
    {
        long frames = patchMask.shape[0];
        long n = patchMask.shape[1];
        using Tensor boundaries = ScalarMath.Arange(1.0 / n, 1.0, 1.0 / n, ScalarType.Float32);
        Tensor ids = torch.zeros([frames, n * n], ScalarType.Int64);
        using Tensor maskCpu = patchMask.cpu();
        for (long f = 0; f < frames; f++)
        {
            using Tensor frameMask = maskCpu[f];
            long nh = frameMask.select(1, 0).sum().item<long>();
            long nw = frameMask.select(0, 0).sum().item<long>();
            if (nh == 0 || nw == 0)
            {
                continue;
            }

            // 1 / torch.tensor(n) is a float32 division; arange then works in double with that float step.
            using Tensor fracH = ScalarMath.Arange(0.0, 1.0 - 1e-6, (double)(1.0f / nh), ScalarType.Float32);
            using Tensor fracW = ScalarMath.Arange(0.0, 1.0 - 1e-6, (double)(1.0f / nw), ScalarType.Float32);
            using Tensor bh = torch.bucketize(fracH, boundaries, right: true);
            using Tensor bw = torch.bucketize(fracW, boundaries, right: true);
            using Tensor pos = bh.unsqueeze(1).Mul(n).Add(bw.unsqueeze(0)).flatten();
            using Tensor flatMask = frameMask.flatten();
            long valid = flatMask.sum().item<long>();
            if (valid != pos.shape[0])
            {
                throw new ArgumentException($"frame {f}: the valid pixels do not form a top-left rectangle ({valid} valid patches, {nh}x{nw} expected)");
            }

            using Tensor row = ids[f];
            row.index_put_(pos, TensorIndex.Tensor(flatMask));
        }

        return ids.to(patchMask.device);
    }
}
