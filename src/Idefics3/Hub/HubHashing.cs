using System.Security.Cryptography;

namespace Idefics3.Hub;

/// <summary>Hashing of downloaded blobs (LFS files are checked against their SHA-256).</summary>
internal static class HubHashing
{
    /// <summary>The SHA-256 of a file, lower-case hex.</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">Stops hashing.</param>
    /// <returns>The hash.</returns>
    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            byte[] hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            return Convert.ToHexStringLower(hash);
        }
    }
}
