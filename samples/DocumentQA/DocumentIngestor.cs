using Microsoft.Extensions.AI;
using UglyToad.PdfPig;
using PdfPigPage = UglyToad.PdfPig.Content.Page;

namespace Idefics3.Samples.DocumentQA;

/// <summary>The pages read from a folder, and the folder of rendered page images (deleted on dispose).</summary>
public sealed class IngestResult : IDisposable
{
    internal IngestResult(IReadOnlyList<DocumentPage> pages, IReadOnlyList<string> warnings, string renderFolder)
    {
        Pages = pages;
        Warnings = warnings;
        RenderFolder = renderFolder;
    }

    public IReadOnlyList<DocumentPage> Pages { get; }

    /// <summary>Gets what could not be done (a missing tool, an unreadable file), in words for the user.</summary>
    public IReadOnlyList<string> Warnings { get; }

    public string RenderFolder { get; }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(RenderFolder))
            {
                Directory.Delete(RenderFolder, recursive: true);
            }
        }
        catch (IOException)
        {
            // A temporary folder; the OS cleans it up eventually.
        }
    }
}

/// <summary>
/// Reads a folder of documents into pages. PDFs: text with PdfPig (a managed PDF library), page images with pdftoppm
/// when it is installed. Images (PNG, JPEG): the image is the page; its text comes from a caption file next to it
/// (<c>name.txt</c>), or from the model's transcription when a transcriber is given, or is empty (file name only).
/// </summary>
public sealed class DocumentIngestor(PdfPageRenderer renderer, TextWriter output)
{
    public const string TranscriptionPrompt = "Transcribe all the text on this page, in reading order. Output only the text.";

    private static readonly string[] _imageExtensions = [".png", ".jpg", ".jpeg"];

    /// <summary>Gets or sets the client that transcribes pages without text (null: no transcription).</summary>
    public IChatClient? Transcriber { get; set; }

    public int TranscriptionMaxTokens { get; set; } = 400;

    public static bool IsSupported(string path)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension == ".pdf" || _imageExtensions.Contains(extension);
    }

    public async Task<IngestResult> IngestAsync(string folder, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"The documents folder '{folder}' does not exist.");
        }

        string renderFolder = Path.Combine(Path.GetTempPath(), "idefics3-documentqa-" + Guid.NewGuid().ToString("N")[..12]);
        var pages = new List<DocumentPage>();
        var warnings = new List<string>();
        string[] files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(IsSupported)
            .Order(StringComparer.Ordinal)
            .ToArray();
        bool hasPdf = files.Any(f => Path.GetExtension(f).Equals(".pdf", StringComparison.OrdinalIgnoreCase));
        if (hasPdf && !renderer.IsAvailable)
        {
            Warn(warnings, renderer.MissingReason);
        }

        for (int i = 0; i < files.Length; i++)
        {
            string file = files[i];
            int before = pages.Count;
            if (Path.GetExtension(file).Equals(".pdf", StringComparison.OrdinalIgnoreCase))
            {
                await IngestPdfAsync(file, Path.Combine(renderFolder, i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)), pages, warnings, cancellationToken);
            }
            else
            {
                pages.Add(await IngestImageAsync(file, cancellationToken));
            }

            foreach (DocumentPage page in pages.Skip(before))
            {
                output.WriteLine($"  {page.Citation,-42} text: {Describe(page)}; image: {(page.ImagePath is null ? "none" : "yes")}");
            }
        }

        return new IngestResult(pages, warnings, renderFolder);
    }

    private async Task IngestPdfAsync(string file, string renderFolder, List<DocumentPage> pages, List<string> warnings, CancellationToken cancellationToken)
    {
        List<string> texts = [];
        try
        {
            using PdfDocument document = PdfDocument.Open(file);
            foreach (PdfPigPage page in document.GetPages())
            {
                texts.Add(string.Join(' ', page.GetWords().Select(w => w.Text)));
            }
        }
#pragma warning disable CA1031 // A broken or encrypted PDF must not stop the other documents.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Warn(warnings, $"Could not read the text of '{Path.GetFileName(file)}' with PdfPig: {e.Message}");
        }

        IReadOnlyList<string> images = [];
        if (renderer.IsAvailable)
        {
            try
            {
                images = await renderer.RenderAsync(file, renderFolder, cancellationToken);
            }
            catch (InvalidOperationException e)
            {
                Warn(warnings, e.Message + " Its pages are indexed by their text only.");
            }
        }

        int count = Math.Max(texts.Count, images.Count);
        if (count == 0)
        {
            Warn(warnings, $"'{Path.GetFileName(file)}' gave neither text nor page images; skipped.");
            return;
        }

        for (int p = 0; p < count; p++)
        {
            string text = p < texts.Count ? texts[p].Trim() : string.Empty;
            string? image = p < images.Count ? images[p] : null;
            PageTextSource source = text.Length > 0 ? PageTextSource.PdfText : PageTextSource.FileNameOnly;
            if (text.Length == 0 && image is not null && Transcriber is not null)
            {
                // A scanned PDF: no text layer, so the model reads the rendered page.
                text = await TranscribeAsync(image, cancellationToken);
                source = PageTextSource.ModelTranscription;
            }

            pages.Add(new DocumentPage(file, p + 1, text, source, image));
        }
    }

    private async Task<DocumentPage> IngestImageAsync(string file, CancellationToken cancellationToken)
    {
        string caption = Path.ChangeExtension(file, ".txt");
        if (File.Exists(caption))
        {
            string text = (await File.ReadAllTextAsync(caption, cancellationToken)).Trim();
            return new DocumentPage(file, 1, text, PageTextSource.CaptionFile, file);
        }

        if (Transcriber is not null)
        {
            return new DocumentPage(file, 1, await TranscribeAsync(file, cancellationToken), PageTextSource.ModelTranscription, file);
        }

        return new DocumentPage(file, 1, string.Empty, PageTextSource.FileNameOnly, file);
    }

    private async Task<string> TranscribeAsync(string imagePath, CancellationToken cancellationToken)
    {
        DataContent image = await DataContent.LoadFromAsync(imagePath, cancellationToken: cancellationToken);
        ChatResponse response = await Transcriber!.GetResponseAsync(
            [new ChatMessage(ChatRole.User, [image, new TextContent(TranscriptionPrompt)])],
            new ChatOptions { MaxOutputTokens = TranscriptionMaxTokens, Temperature = 0 },
            cancellationToken);
        return response.Text.Trim();
    }

    private void Warn(List<string> warnings, string message)
    {
        warnings.Add(message);
        output.WriteLine($"  warning: {message}");
    }

    private static string Describe(DocumentPage page) => page.TextSource switch
    {
        PageTextSource.PdfText => $"PDF text layer ({page.Text.Length} chars)",
        PageTextSource.CaptionFile => $"caption file ({page.Text.Length} chars)",
        PageTextSource.ModelTranscription => $"model transcription ({page.Text.Length} chars)",
        _ => "none (file name only)",
    };
}
