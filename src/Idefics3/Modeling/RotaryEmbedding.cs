using Idefics3.Configuration;
using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>
/// Rotary position embedding (non-interleaved, rotate_half), with optional llama3 frequency scaling. Not a module:
/// inv_freq is a derived constant, not a checkpoint tensor. The arithmetic mirrors HF's float32 op order.
/// </summary>
internal sealed class RotaryEmbedding : IDisposable
{
    private readonly long _headDim;

    public RotaryEmbedding(TextConfig c, Device device)
    {
        _headDim = c.HeadDim;
        using var scope = torch.NewDisposeScope();
        // inv_freq[k] = 1 / theta^(2k/hd), from an int64 arange cast to float32
        Tensor exponents = ScalarMath.Arange(0, c.HeadDim, 2, ScalarType.Int64).to_type(ScalarType.Float32).Div(c.HeadDim);
        Tensor inv = ScalarMath.FullLike(exponents, c.RopeTheta).pow(exponents).reciprocal();
        if (c.RopeScaling is { } rs)
        {
            inv = Llama3(inv, rs);
        }

        InvFreq = inv.to(device).DetachFromDisposeScope();
    }

    /// <summary>Gets inv_freq [hd/2] float32.</summary>
    public Tensor InvFreq { get; }

    private static Tensor Llama3(Tensor inv, RopeScaling rs)
    {
        double lowWavelen = rs.OriginalMaxPositionEmbeddings / rs.LowFreqFactor;
        double highWavelen = rs.OriginalMaxPositionEmbeddings / rs.HighFreqFactor;
        Tensor wavelen = inv.reciprocal().Mul(2 * Math.PI);
        Tensor scaled = torch.where(wavelen.Gt(lowWavelen), inv.Div(rs.Factor), inv);
        Tensor smooth = wavelen.reciprocal().Mul(rs.OriginalMaxPositionEmbeddings).Sub(rs.LowFreqFactor).Div(rs.HighFreqFactor - rs.LowFreqFactor);
        Tensor smoothed = (smooth.neg().Add(1L) * scaled).Div(rs.Factor).Add(smooth * scaled);                          // (1 - smooth) * scaled / factor + smooth * scaled
        Tensor medium = wavelen.Lt(highWavelen).logical_not().logical_and(wavelen.Gt(lowWavelen).logical_not());
        return torch.where(medium, smoothed, scaled);
    }

    /// <summary>positions [B, T] -> (cos, sin) [B, 1, T, hd] in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) CosSin(Tensor positions, ScalarType dtype)
    {
        Tensor freqs = positions.to_type(ScalarType.Float32).unsqueeze(-1) * InvFreq; // [B, T, hd/2]
        Tensor emb = torch.cat([freqs, freqs], -1).unsqueeze(1);                      // [B, 1, T, hd]
        return (emb.cos().to_type(dtype), emb.sin().to_type(dtype));
    }

    /// <summary>x [B, h, T, hd] -> x·cos + rotate_half(x)·sin.</summary>
    public Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long half = _headDim / 2;
        Tensor rotated = torch.cat([x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)], -1);
        return (x * cos).Add(rotated * sin);
    }

    public void Dispose() => InvFreq.Dispose();
}
