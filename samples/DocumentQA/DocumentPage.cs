namespace Idefics3.Samples.DocumentQA;

/// <summary>Where a page's indexed text came from.</summary>
public enum PageTextSource
{
    /// <summary>No text: only the file name is indexed.</summary>
    FileNameOnly,

    /// <summary>The PDF's own text layer, read with PdfPig.</summary>
    PdfText,

    /// <summary>A caption or transcription file next to the image (<c>name.txt</c>).</summary>
    CaptionFile,

    /// <summary>The model's transcription of the page image, made at ingest (<c>--transcribe</c>).</summary>
    ModelTranscription,
}

/// <summary>One page of one document: its text for retrieval and, when there is one, its image for the model.</summary>
/// <param name="SourcePath">The document file.</param>
/// <param name="PageNumber">The page, from 1 (always 1 for an image document).</param>
/// <param name="Text">The text indexed for retrieval (may be empty).</param>
/// <param name="TextSource">Where <paramref name="Text"/> came from.</param>
/// <param name="ImagePath">The page image (the image document itself, or the PDF page rendered by pdftoppm); null when none.</param>
public sealed record DocumentPage(string SourcePath, int PageNumber, string Text, PageTextSource TextSource, string? ImagePath)
{
    /// <summary>Gets the citation of this page: file name and page number.</summary>
    public string Citation => $"{Path.GetFileName(SourcePath)}, page {PageNumber}";

    /// <summary>Gets the text the index sees: the page text and the file name's words (so image documents without text can still be found).</summary>
    public string IndexedText => $"{Path.GetFileNameWithoutExtension(SourcePath).Replace('-', ' ').Replace('_', ' ')} {Text}";
}
