using Idefics3.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>
/// Pixel shuffle (space-to-depth by r) then projection: [F, N², D] -> [F, (N/r)², D·r²] -> [F, image_seq_len, Ht].
/// Output token (R, C) concatenates the r×r block of patches at rows R·r+i, columns C·r+j, ordered by i, then j, then channel.
/// </summary>
internal sealed class Connector : nn.Module
{
    public readonly ModalityProjection modality_projection;
    private readonly long _scale;

    public Connector(WeightSource w, string name, Idefics3Config c)
        : base(name)
    {
        modality_projection = new ModalityProjection(w, name + ".modality_projection", c.ConnectorInputSize, c.Text.HiddenSize);
        _scale = c.ScaleFactor;
        RegisterComponents();
    }

    public Tensor forward(Tensor x) => modality_projection.forward(PixelShuffle(x, _scale));

    // x [F, N², D] -> [F, N²/r², D·r²], the exact op sequence of HF's Idefics3Connector.pixel_shuffle
    public static Tensor PixelShuffle(Tensor x, long r)
    {
        long f = x.shape[0], seq = x.shape[1], d = x.shape[2];
        long n = (long)Math.Sqrt(seq);
        if (n * n != seq || n % r != 0)
        {
            throw new ArgumentException($"pixel shuffle needs a square patch grid divisible by {r}; got {seq} tokens");
        }

        x = x.view(f, n, n, d).view(f, n, n / r, d * r).permute(0, 2, 1, 3);  // [F, N/r, N, D·r]
        x = x.reshape(f, n / r, n / r, d * r * r).permute(0, 2, 1, 3);          // [F, N/r, N/r, D·r²]
        return x.reshape(f, seq / (r * r), d * r * r);
    }
}
