using Idefics3.Samples.DocumentQA;

namespace Idefics3.Samples.Tests;

public sealed class DocumentQATests
{
    private const string Question = "How often should the air filter of the inverter be cleaned?";

    [RequiresPdftoppmFact]
    public async Task Pdf_pages_are_rendered_retrieved_and_cited()
    {
        var output = new StringWriter();
        var options = new DocumentQaOptions { Model = SampleFixtures.TinyModel, DocumentsFolder = SampleFixtures.Documents, MaxTokens = 6, Dpi = 50 };
        options.Questions.Add(Question);

        DocumentQaResult result = await DocumentQaApp.RunAsync(options, output);

        Assert.Empty(result.Warnings);
        Assert.Equal(6, result.Pages.Count);
        DocumentPage[] pdfPages = result.Pages.Where(p => p.SourcePath.EndsWith(".pdf", StringComparison.Ordinal)).ToArray();
        Assert.Equal(4, pdfPages.Length);
        Assert.All(pdfPages, p =>
        {
            Assert.Equal(PageTextSource.PdfText, p.TextSource);
            Assert.NotNull(p.ImagePath);
        });

        DocumentAnswer answer = Assert.Single(result.Answers);
        Assert.Equal("solar-inverter-manual.pdf, page 2", answer.Sources[0].Item.Citation);
        string text = output.ToString();
        Assert.Contains("Sources:", text, StringComparison.Ordinal);
        Assert.Contains("[1] solar-inverter-manual.pdf, page 2", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_pdftoppm_is_reported_and_pdfs_are_answered_from_their_text()
    {
        var output = new StringWriter();
        var options = new DocumentQaOptions
        {
            Model = SampleFixtures.TinyModel,
            DocumentsFolder = SampleFixtures.Documents,
            MaxTokens = 6,
            PdftoppmPath = Path.Combine(Path.GetTempPath(), "no-such-folder", "pdftoppm"),
        };
        options.Questions.Add(Question);

        DocumentQaResult result = await DocumentQaApp.RunAsync(options, output);

        string warning = Assert.Single(result.Warnings);
        Assert.Contains("poppler-utils", warning, StringComparison.Ordinal);
        Assert.Contains("text only", warning, StringComparison.Ordinal);
        Assert.Contains("pdftoppm not found", output.ToString(), StringComparison.Ordinal);
        Assert.All(result.Pages.Where(p => p.SourcePath.EndsWith(".pdf", StringComparison.Ordinal)), p =>
        {
            Assert.Null(p.ImagePath);
            Assert.Equal(PageTextSource.PdfText, p.TextSource);
        });
        DocumentAnswer answer = Assert.Single(result.Answers);
        Assert.Equal("solar-inverter-manual.pdf, page 2", answer.Sources[0].Item.Citation);
        Assert.Contains("[1] solar-inverter-manual.pdf, page 2", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_pdftoppm_gives_a_warning_not_a_crash()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the fake tool is a shell script
        }

        string folder = Directory.CreateTempSubdirectory("docqa-test-").FullName;
        try
        {
            string tool = Path.Combine(folder, "pdftoppm");
            await File.WriteAllTextAsync(tool, "#!/bin/sh\necho 'Syntax Error: broken tool' >&2\nexit 3\n");
            File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var output = new StringWriter();

            using IngestResult ingest = await new DocumentIngestor(new PdfPageRenderer(tool), output).IngestAsync(SampleFixtures.Documents);

            Assert.Equal(2, ingest.Warnings.Count); // one per PDF
            Assert.All(ingest.Warnings, w => Assert.Contains("exit code 3", w, StringComparison.Ordinal));
            Assert.Equal(6, ingest.Pages.Count);
            Assert.All(ingest.Pages.Where(p => p.SourcePath.EndsWith(".pdf", StringComparison.Ordinal)), p => Assert.Null(p.ImagePath));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Transcribe_fills_the_text_of_images_without_a_caption()
    {
        using Idefics3Engine engine = await Idefics3Engine.LoadAsync(SampleFixtures.TinyModel);
        using var client = new Idefics3ChatClient(engine);
        var ingestor = new DocumentIngestor(new PdfPageRenderer(Path.Combine(Path.GetTempPath(), "no-such-folder", "pdftoppm")), TextWriter.Null)
        {
            Transcriber = client,
            TranscriptionMaxTokens = 4,
        };

        using IngestResult ingest = await ingestor.IngestAsync(SampleFixtures.Documents);

        DocumentPage notes = Assert.Single(ingest.Pages, p => p.Citation == "team-meeting-notes.jpg, page 1");
        Assert.Equal(PageTextSource.ModelTranscription, notes.TextSource);
        DocumentPage receipt = Assert.Single(ingest.Pages, p => p.Citation == "cafe-receipt.png, page 1");
        Assert.Equal(PageTextSource.CaptionFile, receipt.TextSource);
        Assert.Contains("cappuccino", receipt.Text, StringComparison.Ordinal);
    }
}
