using Idefics3.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Engine;

/// <summary>Turns the device and dtype options into concrete TorchSharp choices.</summary>
internal static class DeviceSelection
{
    public static (DeviceType Type, int Index) ResolveDevice(string device)
    {
        (string kind, int index) = Idefics3EngineOptions.ParseDevice(device);
        switch (kind)
        {
            case "cpu":
                return (DeviceType.CPU, -1);
            case "cuda":
                if (!torch.cuda.is_available())
                {
                    throw new NotSupportedException(
                        $"Device '{device}' was requested but CUDA is not available: build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU, or use --device cpu.");
                }

                if (index >= torch.cuda.device_count())
                {
                    throw new ArgumentException($"Device '{device}' does not exist: {torch.cuda.device_count()} CUDA device(s) are visible.", nameof(device));
                }

                return (DeviceType.CUDA, index);
            default:
                return torch.cuda.is_available() ? (DeviceType.CUDA, 0) : (DeviceType.CPU, -1);
        }
    }

    public static ScalarType ResolveDType(ModelDType dtype, DeviceType device) => dtype switch
    {
        ModelDType.Float32 => ScalarType.Float32,
        ModelDType.BFloat16 => ScalarType.BFloat16,
        ModelDType.Float16 when device == DeviceType.CPU => throw new NotSupportedException(
            "float16 is not supported on the CPU (no native float16 arithmetic; about 10x slower than bfloat16). Use bfloat16 or float32."),
        ModelDType.Float16 => ScalarType.Float16,
        _ when device == DeviceType.CUDA => ScalarType.BFloat16,
        _ => CpuFeatures.Current.HasFastBFloat16 ? ScalarType.BFloat16 : ScalarType.Float32,
    };
}
