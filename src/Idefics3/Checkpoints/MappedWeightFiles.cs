using Microsoft.Win32.SafeHandles;

namespace Idefics3.Checkpoints;

/// <summary>
/// The weight files a loaded model reads through memory maps, each with the size and modification time it had when it
/// was mapped, and a handle on the mapped file itself (not on its path).
/// </summary>
/// <remarks>
/// A memory-mapped file must not change while a model uses it (as with llama.cpp): a file truncated in place makes the
/// next read of a missing page kill the process with SIGBUS, and a file overwritten in place silently changes the
/// answers. <see cref="ThrowIfChanged"/> is checked before every request (two <c>fstat</c> calls per file), so such a
/// change is reported as a <see cref="CheckpointException"/> instead. A file replaced by a rename (a new file under the
/// same name, as downloads and <c>cp</c> to a temporary name then <c>mv</c> do) is not a change: the handle still points
/// to the mapped file, which stays valid until the model is disposed.
/// </remarks>
internal sealed class MappedWeightFiles : IDisposable
{
    private readonly List<(MappedFileStamp Stamp, SafeFileHandle Handle)> _files = [];

    /// <summary>Opens a handle on each mapped file and checks that it still has its mapped size and time.</summary>
    /// <param name="stamps">The files and what they were when mapped.</param>
    /// <exception cref="CheckpointException">A file changed between mapping and this call.</exception>
    public MappedWeightFiles(IEnumerable<MappedFileStamp> stamps)
    {
        try
        {
            foreach (MappedFileStamp stamp in stamps)
            {
                SafeFileHandle handle;
                try
                {
                    handle = File.OpenHandle(stamp.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new CheckpointException(stamp.Path, "the file changed while the model was loading: cannot reopen it: " + ex.Message, ex);
                }

                _files.Add((stamp, handle));
            }

            ThrowIfChanged();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Gets the number of files watched.</summary>
    public int Count => _files.Count;

    /// <summary>Throws when a mapped file was truncated, extended or written since it was mapped.</summary>
    /// <exception cref="CheckpointException">The file changed; the message says how and what to do.</exception>
    public void ThrowIfChanged()
    {
        foreach ((MappedFileStamp stamp, SafeFileHandle handle) in _files)
        {
            long length;
            DateTime written;
            try
            {
                length = RandomAccess.GetLength(handle);
                written = File.GetLastWriteTimeUtc(handle);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                throw new CheckpointException(stamp.Path, "cannot check the memory-mapped weight file: " + ex.Message, ex);
            }

            if (length != stamp.Length || written != stamp.LastWriteUtc)
            {
                string how = length < stamp.Length ? $"truncated from {stamp.Length} to {length} bytes"
                    : length > stamp.Length ? $"grown from {stamp.Length} to {length} bytes"
                    : $"rewritten in place (modified {written:O}, mapped at {stamp.LastWriteUtc:O})";
                throw new CheckpointException(
                    stamp.Path,
                    $"the memory-mapped weight file was {how} while the model uses it; the model's weights are no longer what was loaded. "
                    + "Dispose the engine before changing its files (or replace files by renaming a new file over them), then load again");
            }
        }
    }

    /// <summary>Closes the handles (the maps themselves belong to the weight tensors).</summary>
    public void Dispose()
    {
        foreach ((_, SafeFileHandle handle) in _files)
        {
            handle.Dispose();
        }

        _files.Clear();
    }
}

/// <summary>A mapped file and its size and last-write time when it was opened for mapping.</summary>
/// <param name="Path">The file path.</param>
/// <param name="Length">The length in bytes.</param>
/// <param name="LastWriteUtc">The last write time.</param>
internal sealed record MappedFileStamp(string Path, long Length, DateTime LastWriteUtc);
