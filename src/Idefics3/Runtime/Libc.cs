using System.Runtime.InteropServices;

namespace Idefics3.Runtime;

/// <summary>Optional entry points of glibc, looked up at run time so that other C libraries and systems simply lack them.</summary>
internal static class Libc
{
    /// <summary>Returns the address of <paramref name="name"/> in glibc, or zero where there is none (not Linux, not glibc).</summary>
    /// <param name="name">The exported function's name.</param>
    /// <returns>The function pointer, or <see cref="IntPtr.Zero"/>.</returns>
    public static IntPtr Export(string name) =>
        OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out IntPtr libc) && NativeLibrary.TryGetExport(libc, name, out IntPtr f)
            ? f
            : IntPtr.Zero;
}
