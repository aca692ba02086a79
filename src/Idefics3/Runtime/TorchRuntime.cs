using TorchSharp;

namespace Idefics3.Runtime;

/// <summary>
/// Facts about the TorchSharp runtime this process uses: whether the native library loads, which devices and
/// instruction sets it has. Reading them never changes process-wide TorchSharp state.
/// </summary>
public static class TorchRuntime
{
    /// <summary>
    /// Ensures that TorchSharp's native libraries are loaded, turning a load failure into a
    /// <see cref="TorchRuntimeException"/> that explains the likely cause.
    /// </summary>
    /// <exception cref="TorchRuntimeException">The native TorchSharp libraries cannot be loaded.</exception>
    public static void EnsureLoaded()
    {
        try
        {
            // Touching torch's static state loads libtorch and LibTorchSharp.
            _ = torch.get_num_threads();
        }
        catch (TypeInitializationException ex)
        {
            throw new TorchRuntimeException(Describe(ex), ex);
        }
        catch (DllNotFoundException ex)
        {
            throw new TorchRuntimeException(Describe(ex), ex);
        }
        catch (NotSupportedException ex)
        {
            throw new TorchRuntimeException(Describe(ex), ex);
        }
    }

    /// <summary>Gets a value indicating whether a CUDA device is available to TorchSharp.</summary>
    public static bool IsCudaAvailable
    {
        get
        {
            EnsureLoaded();
            return torch.cuda.is_available();
        }
    }

    private static string Describe(Exception ex)
    {
        string inner = ex.InnerException?.Message ?? ex.Message;
        string hint = inner.Contains("GLIBCXX", StringComparison.Ordinal)
            ? " The system libstdc++ is older than the one TorchSharp was built with; build the application with the Idefics3 " +
              "package's MSBuild targets (they patch the copy of libLibTorchSharp.so in the output), or install GCC 13's libstdc++."
            : " Make sure the application references a native TorchSharp package (TorchSharp-cpu, TorchSharp-cuda-linux or " +
              "TorchSharp-cuda-windows).";
        return "TorchSharp's native libraries could not be loaded: " + inner + hint;
    }
}
