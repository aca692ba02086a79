namespace Idefics3;

#pragma warning disable CA1720 // Float32 / BFloat16 / Float16 are the dtypes' own names.

/// <summary>The dtype the model computes in.</summary>
public enum ModelDType
{
    /// <summary>bfloat16 on CUDA and on CPUs with AVX512-BF16 or AMX; float32 elsewhere. Never float16 on a CPU.</summary>
    Auto,

    /// <summary>32-bit floats: exact parity with the Hugging Face reference, twice the memory of the checkpoint.</summary>
    Float32,

    /// <summary>bfloat16: the checkpoint's own dtype, loaded without a copy; fast on CPUs with native bfloat16.</summary>
    BFloat16,

    /// <summary>float16: CUDA only (slow and unsupported on CPUs).</summary>
    Float16,
}
