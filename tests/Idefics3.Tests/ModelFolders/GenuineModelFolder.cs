using System.IO.Compression;

namespace Idefics3.Tests;

/// <summary>
/// Turns a fixture folder of genuine Hugging Face files (large ones stored gzipped as <c>name.gz</c>) into a model folder
/// exactly as a user has it on disk: every file under its own name, uncompressed.
/// </summary>
internal static class GenuineModelFolder
{
    /// <summary>Copies (and un-gzips) the files of <paramref name="source"/> into <paramref name="target"/>.</summary>
    /// <param name="source">The fixture folder.</param>
    /// <param name="target">The folder to write to; null for a new temporary folder.</param>
    /// <returns>The model folder.</returns>
    public static string Materialize(string source, string? target = null)
    {
        target ??= NewTemporaryFolder(Path.GetFileName(source));
        Directory.CreateDirectory(target);
        foreach (string file in Directory.EnumerateFiles(source))
        {
            string name = Path.GetFileName(file);
            if (name.EndsWith(".gz", StringComparison.Ordinal))
            {
                using var gz = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
                using var output = File.Create(Path.Combine(target, name[..^3]));
                gz.CopyTo(output);
            }
            else
            {
                File.Copy(file, Path.Combine(target, name), overwrite: true);
            }
        }

        return target;
    }

    /// <summary>
    /// The files of <paramref name="source"/> as a model folder under the temporary folder, written once per content
    /// (built in a scratch folder and renamed into place) and reused by later runs.
    /// </summary>
    /// <param name="source">The fixture folder.</param>
    /// <returns>The model folder.</returns>
    public static string MaterializeShared(string source)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (string file in Directory.EnumerateFiles(source).Order(StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file)));
            hash.AppendData(File.ReadAllBytes(file));
        }

        string folder = Path.Combine(Path.GetTempPath(), "idefics3-tests", Path.GetFileName(source) + "-" + Convert.ToHexStringLower(hash.GetHashAndReset())[..12]);
        if (!Directory.Exists(folder))
        {
            string scratch = Materialize(source, NewTemporaryFolder(Path.GetFileName(source) + "-partial"));
            try
            {
                Directory.Move(scratch, folder);
            }
            catch (IOException) when (Directory.Exists(folder))
            {
                Directory.Delete(scratch, recursive: true); // another run finished first
            }
        }

        return folder;
    }

    /// <summary>A new, empty folder under the temporary folder.</summary>
    /// <param name="prefix">The start of its name.</param>
    /// <returns>The folder path.</returns>
    public static string NewTemporaryFolder(string prefix)
    {
        string folder = Path.Combine(Path.GetTempPath(), "idefics3-tests", prefix + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        return folder;
    }
}
