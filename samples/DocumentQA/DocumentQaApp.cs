using System.Text;
using Microsoft.Extensions.AI;

namespace Idefics3.Samples.DocumentQA;

/// <summary>What the sample ingests, asks and how.</summary>
public sealed class DocumentQaOptions
{
    public string Model { get; set; } = DocumentQaApp.DefaultModel;

    public string Device { get; set; } = "auto";

    public string DocumentsFolder { get; set; } = Path.Combine(AppContext.BaseDirectory, "assets", "documents");

    /// <summary>Gets or sets the questions; the sample's own questions about its document set when empty.</summary>
    public IList<string> Questions { get; } = [];

    /// <summary>Gets or sets how many pages are retrieved and shown to the model per question.</summary>
    public int TopPages { get; set; } = 2;

    public int MaxTokens { get; set; } = 200;

    /// <summary>Gets or sets the pdftoppm executable (a path, or a name on PATH); null uses <c>pdftoppm</c> from PATH.</summary>
    public string? PdftoppmPath { get; set; }

    public int Dpi { get; set; } = 100;

    /// <summary>Gets or sets a value indicating whether pages without text are transcribed by the model at ingest.</summary>
    public bool Transcribe { get; set; }

    /// <summary>Gets or sets the largest number of characters of a page's text put in the prompt next to its image.</summary>
    public int MaxPageTextChars { get; set; } = 1500;
}

/// <summary>One answered question: the retrieved pages (with their BM25 scores) and the model's answer.</summary>
public sealed record DocumentAnswer(string Question, IReadOnlyList<SearchHit<DocumentPage>> Sources, string Answer);

/// <summary>The ingested pages, ingest warnings and answers. Rendered PDF page images are deleted when the run ends, so <see cref="DocumentPage.ImagePath"/> of a PDF page no longer exists afterwards.</summary>
public sealed record DocumentQaResult(IReadOnlyList<DocumentPage> Pages, IReadOnlyList<string> Warnings, IReadOnlyList<DocumentAnswer> Answers);

/// <summary>
/// Retrieval-augmented question answering over document pages: ingest a folder (PDFs and page images), index the pages'
/// text with BM25, retrieve the best pages for a question, and ask the model with those page images (and their text),
/// printing the answer with page citations.
/// </summary>
public static class DocumentQaApp
{
    public const string DefaultModel = "HuggingFaceTB/SmolVLM-256M-Instruct";

    public static readonly IReadOnlyList<string> DefaultQuestions =
    [
        "How often should the air filter of the inverter be cleaned?",
        "How many visitors did the library have in 2023?",
        "What was the total on the cafe receipt?",
    ];

    public static async Task<DocumentQaResult> RunAsync(DocumentQaOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        output.WriteLine($"Loading {options.Model} ...");
        using Idefics3Engine engine = await Idefics3Engine.LoadAsync(options.Model, new Idefics3EngineOptions { Device = options.Device }, null, null, cancellationToken);
        using IChatClient client = new Idefics3ChatClient(engine);
        output.WriteLine($"Loaded {engine.ModelId} on {engine.DeviceName}.");

        var renderer = new PdfPageRenderer(options.PdftoppmPath, options.Dpi);
        output.WriteLine(renderer.IsAvailable
            ? $"PDF pages are rendered with {renderer.ToolPath} at {renderer.Dpi} dpi."
            : "pdftoppm not found: PDFs will be indexed and answered from their text only.");
        var ingestor = new DocumentIngestor(renderer, output)
        {
            Transcriber = options.Transcribe ? client : null,
            TranscriptionMaxTokens = options.MaxTokens * 2,
        };

        output.WriteLine($"Ingesting {options.DocumentsFolder} ...");
        using IngestResult ingest = await ingestor.IngestAsync(options.DocumentsFolder, cancellationToken);
        Bm25Index<DocumentPage> index = BuildIndex(ingest.Pages);
        output.WriteLine($"Indexed {index.Count} pages (BM25, k1={index.K1}, b={index.B}, average {index.AverageLength:F0} terms per page).");

        IReadOnlyList<string> questions = options.Questions.Count > 0 ? [.. options.Questions] : DefaultQuestions;
        var answers = new List<DocumentAnswer>();
        foreach (string question in questions)
        {
            answers.Add(await AskAsync(client, index, question, options, output, cancellationToken));
        }

        return new DocumentQaResult(ingest.Pages, ingest.Warnings, answers);
    }

    public static Bm25Index<DocumentPage> BuildIndex(IEnumerable<DocumentPage> pages)
    {
        var index = new Bm25Index<DocumentPage>();
        foreach (DocumentPage page in pages)
        {
            index.Add(page, page.IndexedText);
        }

        return index;
    }

    /// <summary>Retrieves the best pages for <paramref name="question"/>, asks the model with them and prints the answer with citations.</summary>
    public static async Task<DocumentAnswer> AskAsync(
        IChatClient client, Bm25Index<DocumentPage> index, string question, DocumentQaOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        output.WriteLine();
        output.WriteLine($"Question: {question}");
        IReadOnlyList<SearchHit<DocumentPage>> hits = index.Search(question, options.TopPages);
        if (hits.Count == 0)
        {
            const string none = "No page shares a term with the question, so there is nothing to answer from.";
            output.WriteLine(none);
            return new DocumentAnswer(question, hits, none);
        }

        foreach ((SearchHit<DocumentPage> hit, int i) in hits.Select((h, i) => (h, i + 1)))
        {
            output.WriteLine($"  retrieved [{i}] {hit.Item.Citation} (BM25 {hit.Score:F2})");
        }

        ChatMessage prompt = await BuildPromptAsync(hits, question, options.MaxPageTextChars, cancellationToken);
        output.Write("Answer: ");
        var answer = new StringBuilder();
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(
            [prompt], new ChatOptions { MaxOutputTokens = options.MaxTokens, Temperature = 0 }, cancellationToken))
        {
            output.Write(update.Text);
            answer.Append(update.Text);
        }

        output.WriteLine();
        output.WriteLine("Sources:");
        foreach ((SearchHit<DocumentPage> hit, int i) in hits.Select((h, i) => (h, i + 1)))
        {
            output.WriteLine($"  [{i}] {hit.Item.Citation}");
        }

        return new DocumentAnswer(question, hits, answer.ToString().Trim());
    }

    /// <summary>
    /// One user message: for each retrieved page, its label, its image (when there is one) and its text (truncated), then
    /// the question. Pages without an image (pdftoppm missing) are given as text only.
    /// </summary>
    public static async Task<ChatMessage> BuildPromptAsync(IReadOnlyList<SearchHit<DocumentPage>> hits, string question, int maxPageTextChars, CancellationToken cancellationToken = default)
    {
        var contents = new List<AIContent>
        {
            new TextContent("Answer the question using only these document pages. Say which page ([1], [2], ...) the answer comes from.\n"),
        };
        for (int i = 0; i < hits.Count; i++)
        {
            DocumentPage page = hits[i].Item;
            contents.Add(new TextContent($"[{i + 1}] {page.Citation}:"));
            if (page.ImagePath is not null)
            {
                contents.Add(await DataContent.LoadFromAsync(page.ImagePath, cancellationToken: cancellationToken));
            }

            if (page.Text.Length > 0)
            {
                string text = page.Text.Length > maxPageTextChars ? page.Text[..maxPageTextChars] + " ..." : page.Text;
                contents.Add(new TextContent($"\nText of [{i + 1}]: {text}\n"));
            }
        }

        contents.Add(new TextContent($"\nQuestion: {question}"));
        return new ChatMessage(ChatRole.User, contents);
    }
}
