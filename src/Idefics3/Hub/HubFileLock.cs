using Microsoft.Extensions.Logging;

namespace Idefics3.Hub;

/// <summary>The per-blob lock shared with Python's huggingface_hub (an exclusive flock on <c>blobs/&lt;hash&gt;.lock</c>).</summary>
internal static class HubFileLock
{
    /// <summary>Takes the exclusive lock file of a blob, waiting while another process (.NET or Python) downloads it.</summary>
    /// <param name="path">The lock file.</param>
    /// <param name="logger">Told when the wait is long.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The open lock file; disposing it releases the lock.</returns>
    public static async Task<FileStream> AcquireAsync(string path, ILogger logger, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                // FileShare.None takes an exclusive flock on Unix, the same lock Python's filelock takes, so a .NET
                // and a Python process never write the same blob at once. Waits as long as the other download runs.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                if (attempt == 10)
                {
                    logger.WaitingForLock(path);
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
