using TorchSharp;

namespace Idefics3.Checkpoints;

/// <summary>The safetensors dtype strings: element sizes and the TorchSharp types this library can load.</summary>
internal static class SafetensorsDtype
{
    /// <summary>Returns the element size in bytes of a safetensors dtype string, or null for an unknown dtype.</summary>
    public static int? ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
        _ => null,
    };

    /// <summary>Returns the TorchSharp type of a loadable dtype (F32, BF16, F16), or null.</summary>
    public static torch.ScalarType? Loadable(string dtype) => dtype switch
    {
        "F32" => torch.ScalarType.Float32,
        "BF16" => torch.ScalarType.BFloat16,
        "F16" => torch.ScalarType.Float16,
        _ => null,
    };
}
