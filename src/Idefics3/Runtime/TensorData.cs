using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Idefics3.Runtime;

/// <summary>Raw access to a CPU tensor's memory (the memory TorchSharp owns; valid while the tensor lives).</summary>
internal static unsafe class TensorData
{
    /// <summary>Gets the address of the first element of a CPU tensor (including its storage offset).</summary>
    /// <param name="tensor">A CPU tensor.</param>
    /// <returns>The address.</returns>
    public static void* Pointer(Tensor tensor) => (void*)THSTensor_data(tensor.Handle);

    // LibTorchSharp's own accessor for a tensor's data pointer (what TorchSharp's TensorAccessor uses); the library is
    // already loaded by TorchSharp, so this binds to the same copy.
    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);
}
