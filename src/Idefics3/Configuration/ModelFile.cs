using System.Text;

namespace Idefics3.Configuration;

/// <summary>
/// Reads the small text files of a model folder (configs, chat templates, the weights index) with a size limit, so a
/// huge, endless (a device) or blocking (a FIFO) file fails with a <see cref="ConfigurationException"/> naming it
/// instead of exhausting memory or hanging.
/// </summary>
internal static class ModelFile
{
    /// <summary>The largest configuration file read: 16 MiB (real ones are a few KB; tokenizer files are read elsewhere).</summary>
    public const int MaxConfigBytes = 16 * 1024 * 1024;

    /// <summary>Reads a UTF-8 text file of at most <see cref="MaxConfigBytes"/> bytes.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The text.</returns>
    /// <exception cref="ConfigurationException">The file is missing, empty or not a regular file, too large, unreadable or not UTF-8.</exception>
    public static string ReadText(string path)
    {
        string name = Path.GetFileName(path);
        var info = new FileInfo(path);
        if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target)
        {
            info = target; // hub snapshots are symlinks into blobs/: judge the file they point at
        }

        if (!info.Exists)
        {
            throw new ConfigurationException(name, "$", $"file not found: {path}");
        }

        // Devices and FIFOs report length 0 and are refused before they are opened (a FIFO's open blocks).
        if (info.Length == 0)
        {
            throw new ConfigurationException(name, "$", $"empty or not a regular file: {path}");
        }

        if (info.Length > MaxConfigBytes)
        {
            throw new ConfigurationException(name, "$", $"{info.Length} bytes, over the limit of {MaxConfigBytes} for a configuration file: {path}");
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            byte[] buffer = new byte[info.Length];
            int filled = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (filled != buffer.Length || stream.ReadByte() != -1)
            {
                throw new ConfigurationException(name, "$", $"changed size while it was read: {path}");
            }

            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(buffer).TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException ex)
        {
            throw new ConfigurationException(name, "$", $"not valid UTF-8 ({path})", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException(name, "$", $"cannot be read: {ex.Message} ({path})", ex);
        }
    }
}
