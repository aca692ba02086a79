namespace Idefics3.Runtime;

/// <summary>
/// Gives the C heap's freed pages back to the operating system (glibc's <c>malloc_trim</c>) when an engine is released.
/// </summary>
/// <remarks>
/// libtorch allocates activations with <c>malloc</c> from whichever thread runs the request, and glibc keeps one arena per
/// thread (up to eight per core). Memory freed in an arena stays resident until that arena reuses it, so loading an engine,
/// answering an image request and disposing it, again and again, left about 100 MB more resident per cycle on the 256M
/// shape (docs/errors-and-limits.md). Trimming is an action on memory that is already free: it changes no allocator
/// setting, and is a no-op where the C library has no <c>malloc_trim</c> (Windows, macOS, musl).
/// </remarks>
internal static class NativeHeap
{
    private static readonly Lazy<IntPtr> s_mallocTrim = new(() => Libc.Export("malloc_trim"));

    /// <summary>Returns the C heap's free pages to the operating system where the C library can.</summary>
    /// <returns><see langword="true"/> when the C library released memory.</returns>
    public static unsafe bool TrimFreedMemory()
    {
        IntPtr trim = s_mallocTrim.Value;
        if (trim == IntPtr.Zero)
        {
            return false;
        }

        // int malloc_trim(size_t pad): pad 0 keeps nothing spare at the top of the main heap.
        return ((delegate* unmanaged<nuint, int>)trim)(0) != 0;
    }
}
