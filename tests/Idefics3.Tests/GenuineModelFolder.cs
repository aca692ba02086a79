using System.IO.Compression;

namespace Idefics3.Tests;

/// <summary>
/// Turns a fixture folder of genuine Hugging Face files (large ones stored gzipped as <c>name.gz</c>) into a model folder
/// exactly as a user has it on disk: every file under its own name, uncompressed, in a fresh temporary folder.
/// </summary>
internal static class GenuineModelFolder
{
    /// <summary>Writes the files of <c>Fixtures/<paramref name="fixture"/></c> into a new temporary folder.</summary>
    /// <param name="fixture">The fixture folder name.</param>
    /// <param name="target">The folder to write to; null for a new temporary folder.</param>
    /// <returns>The model folder.</returns>
    public static string Materialize(string fixture, string? target = null)
    {
        string source = TestFixtures.PathOf(fixture);
        target ??= Path.Combine(Path.GetTempPath(), "idefics3-tests", fixture + "-" + Guid.NewGuid().ToString("N")[..8]);
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
}
