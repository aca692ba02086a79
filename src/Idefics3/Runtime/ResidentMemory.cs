using Microsoft.Win32.SafeHandles;
using static TorchSharp.torch;

namespace Idefics3.Runtime;

/// <summary>
/// Reads a file region into a new tensor in the process's own memory, advised as transparent huge pages where the OS
/// supports them (<c>madvise(MADV_HUGEPAGE)</c> on that tensor's pages only; no process-wide setting changes).
/// </summary>
/// <remarks>
/// The alternative to a memory map of the page cache: the weights then stream at the speed of anonymous memory. Measured
/// on the development VM (6.1 GB file, already in the page cache): a mapped file read at 3-5.7 GB/s once its pages were
/// mapped, the same bytes in anonymous memory at 22-32 GB/s; reading the file into huge-page-advised memory took 3.2 s
/// per 4 GB against 17.8 s for 4 KB pages (first touch of each page is expensive there).
/// </remarks>
internal static class ResidentMemory
{
    private const int MadvHugePage = 14;
    private const long HugePage = 2L * 1024 * 1024;
    private const int ChunkBytes = 64 * 1024 * 1024;

    private const int FadvDontNeed = 4;

    private static readonly Lazy<IntPtr> s_madvise = new(() => Libc.Export("madvise"));
    private static readonly Lazy<IntPtr> s_fadvise = new(() => Libc.Export("posix_fadvise"));

    /// <summary>Reads <paramref name="elements"/> elements of <paramref name="dtype"/> from the start of the file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="elements">How many elements (the file's length divided by the element size).</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="elementSize">The element size in bytes.</param>
    /// <returns>A 1-D CPU tensor the caller owns, holding the file's bytes.</returns>
    public static unsafe Tensor ReadFile(string path, long elements, ScalarType dtype, int elementSize)
    {
        Tensor tensor = empty([elements], dtype);
        try
        {
            byte* data = (byte*)TensorData.Pointer(tensor);
            long bytes = elements * elementSize;
            AdviseHugePages(data, bytes);
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            for (long offset = 0; offset < bytes;)
            {
                int want = (int)Math.Min(ChunkBytes, bytes - offset);
                int read = RandomAccess.Read(handle, new Span<byte>(data + offset, want), offset);
                if (read <= 0)
                {
                    throw new EndOfStreamException($"the file ended after {offset} of {bytes} bytes");
                }

                // The copy is what the model reads from now on: the file's page-cache pages just read are dropped, so a
                // checkpoint about the size of free memory does not leave memory full (and too fragmented for huge pages).
                DropCachedPages(handle, offset, read);
                offset += read;
            }

            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    private static unsafe void DropCachedPages(SafeFileHandle handle, long offset, long length)
    {
        IntPtr fadvise = s_fadvise.Value;
        if (fadvise == IntPtr.Zero)
        {
            return;
        }

        // int posix_fadvise(int fd, off_t offset, off_t len, int advice): advice only; a refusal changes nothing.
        _ = ((delegate* unmanaged<int, long, long, int, int>)fadvise)((int)handle.DangerousGetHandle(), offset, length, FadvDontNeed);
    }

    private static unsafe void AdviseHugePages(byte* data, long bytes)
    {
        IntPtr madvise = s_madvise.Value;
        long start = ((long)data + HugePage - 1) & ~(HugePage - 1);
        long end = ((long)data + bytes) & ~(HugePage - 1);
        if (madvise == IntPtr.Zero || end <= start)
        {
            return;
        }

        // int madvise(void* addr, size_t length, int advice); a refusal (THP off, old kernel) only costs speed.
        _ = ((delegate* unmanaged<nint, nuint, int, int>)madvise)((nint)start, (nuint)(end - start), MadvHugePage);
    }
}
