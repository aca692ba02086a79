using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>How to load a model: compute dtype, device and vision batching.</summary>
internal sealed record ModelLoadOptions
{
    /// <summary>
    /// Gets the compute dtype: <see cref="ScalarType.Float32"/> (default, HF parity) or <see cref="ScalarType.BFloat16"/>
    /// (half the memory; bf16 checkpoints load zero-copy). <see cref="ScalarType.Float16"/> is accepted but untested on CPU.
    /// </summary>
    public ScalarType Dtype { get; init; } = ScalarType.Float32;

    /// <summary>Gets the device type; CPU by default. Weights are copied to any other device once, at load.</summary>
    public DeviceType DeviceType { get; init; } = DeviceType.CPU;

    /// <summary>Gets the device index for CUDA devices (-1: the default device).</summary>
    public int DeviceIndex { get; init; } = -1;

    /// <summary>
    /// Gets a value indicating whether CPU weights are read into the process's memory at load (advised as transparent huge
    /// pages) instead of being views of memory-mapped files. See <see cref="Idefics3EngineOptions.LoadWeightsIntoMemory"/>.
    /// </summary>
    public bool ReadWeightsIntoMemory { get; init; }

    /// <summary>Gets how many image frames (tiles) go through the vision tower at once; cancellation is checked between chunks.</summary>
    public int VisionChunkSize { get; init; } = 4;
}
