using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Idefics3.Samples.DocumentQA;

/// <summary>
/// Renders PDF pages to PNG images with poppler-utils' <c>pdftoppm</c>, run as a process. The tool is optional: when it
/// is missing, <see cref="IsAvailable"/> is false, <see cref="MissingReason"/> says why and how to install it, and
/// PDFs are indexed and answered from their text only.
/// </summary>
public sealed class PdfPageRenderer
{
    public const string DefaultToolName = "pdftoppm";

    /// <param name="toolPath">The pdftoppm executable: a path, or a name looked up on PATH (default <c>pdftoppm</c>).</param>
    /// <param name="dpi">The rendering resolution.</param>
    public PdfPageRenderer(string? toolPath = null, int dpi = 100)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dpi, 36);
        Dpi = dpi;
        string requested = string.IsNullOrWhiteSpace(toolPath) ? DefaultToolName : toolPath;
        ToolPath = Resolve(requested);
        if (ToolPath is null)
        {
            MissingReason =
                $"'{requested}' (poppler-utils) was not found, so PDF pages are not rendered to images: PDFs are indexed by their text " +
                "and answered from that text only. Install it to give the model the page images: " +
                "'sudo apt-get install poppler-utils' (Debian/Ubuntu), 'brew install poppler' (macOS), or pass --pdftoppm PATH.";
        }
    }

    /// <summary>Gets the resolved executable, or null when it was not found.</summary>
    public string? ToolPath { get; }

    public int Dpi { get; }

    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(false, nameof(MissingReason))]
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(ToolPath))]
    public bool IsAvailable => ToolPath is not null;

    /// <summary>Gets why PDF pages cannot be rendered, for the user; null when they can.</summary>
    public string? MissingReason { get; }

    /// <summary>Renders every page of <paramref name="pdfPath"/> into <paramref name="outputFolder"/>.</summary>
    /// <returns>The page images in page order (index 0 is page 1).</returns>
    /// <exception cref="InvalidOperationException">The tool is missing, or failed on this file (its message says why).</exception>
    public async Task<IReadOnlyList<string>> RenderAsync(string pdfPath, string outputFolder, CancellationToken cancellationToken = default)
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException(MissingReason);
        }

        Directory.CreateDirectory(outputFolder);
        string prefix = Path.Combine(outputFolder, Path.GetFileNameWithoutExtension(pdfPath));
        var start = new ProcessStartInfo(ToolPath)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "-r", Dpi.ToString(CultureInfo.InvariantCulture), "-png", pdfPath, prefix })
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start '{ToolPath}'.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"Could not run '{ToolPath}': {e.Message}", e);
        }

        using (process)
        {
            Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            string error = (await stderr).Trim();
            _ = await stdout;
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"pdftoppm failed on '{Path.GetFileName(pdfPath)}' (exit code {process.ExitCode}): {error}");
            }
        }

        // pdftoppm names pages prefix-1.png, or prefix-01.png / prefix-001.png when the document has 10+ / 100+ pages.
        string name = Path.GetFileName(prefix);
        return Directory.EnumerateFiles(outputFolder, name + "-*.png")
            .Select(f => (File: f, Number: PageNumber(Path.GetFileNameWithoutExtension(f), name)))
            .Where(p => p.Number > 0)
            .OrderBy(p => p.Number)
            .Select(p => p.File)
            .ToList();
    }

    private static int PageNumber(string fileName, string prefix) =>
        fileName.Length > prefix.Length + 1 &&
        int.TryParse(fileName.AsSpan(prefix.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0;

    private static string? Resolve(string tool)
    {
        if (tool.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || tool.Contains(Path.AltDirectorySeparatorChar, StringComparison.Ordinal))
        {
            return File.Exists(tool) ? Path.GetFullPath(tool) : null;
        }

        string[] extensions = OperatingSystem.IsWindows() ? [".exe", ".cmd", ".bat", string.Empty] : [string.Empty];
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string extension in extensions)
            {
                string candidate = Path.Combine(folder, tool + extension);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
