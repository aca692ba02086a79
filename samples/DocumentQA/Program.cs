using System.CommandLine;
using Idefics3.Checkpoints;
using Idefics3.Configuration;
using Idefics3.Hub;
using Idefics3.Samples.DocumentQA;

var model = new Option<string>("--model")
{
    Description = "A local model folder or a Hugging Face repo id (org/name[@rev]).",
    DefaultValueFactory = _ => DocumentQaApp.DefaultModel,
};
var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
var documents = new Option<string?>("--documents") { Description = "The folder of PDFs and page images (default: assets/documents)." };
var questions = new Option<string[]>("--question", "-q") { Description = "A question (repeatable). Default: three questions about the sample documents.", AllowMultipleArgumentsPerToken = false };
var top = new Option<int>("--top") { Description = "How many pages are retrieved per question.", DefaultValueFactory = _ => 2 };
var maxTokens = new Option<int>("--max-tokens") { Description = "The longest answer, in tokens.", DefaultValueFactory = _ => 200 };
var pdftoppm = new Option<string?>("--pdftoppm") { Description = "The pdftoppm executable (default: pdftoppm on PATH)." };
var dpi = new Option<int>("--dpi") { Description = "Resolution of rendered PDF pages.", DefaultValueFactory = _ => 100 };
var transcribe = new Option<bool>("--transcribe") { Description = "Ask the model to transcribe pages that have no text (images without a caption file, scanned PDFs) at ingest." };

var root = new RootCommand("Question answering over a folder of documents (PDFs and page images) with BM25 retrieval and a local SmolVLM model.")
{
    model, device, documents, questions, top, maxTokens, pdftoppm, dpi, transcribe,
};
root.SetAction(async (parse, ct) =>
{
    var options = new DocumentQaOptions
    {
        Model = parse.GetValue(model)!,
        Device = parse.GetValue(device)!,
        TopPages = parse.GetValue(top),
        MaxTokens = parse.GetValue(maxTokens),
        PdftoppmPath = parse.GetValue(pdftoppm),
        Dpi = parse.GetValue(dpi),
        Transcribe = parse.GetValue(transcribe),
    };
    options.DocumentsFolder = parse.GetValue(documents) ?? options.DocumentsFolder;
    foreach (string q in parse.GetValue(questions) ?? [])
    {
        options.Questions.Add(q);
    }

    try
    {
        await DocumentQaApp.RunAsync(options, Console.Out, ct);
        return 0;
    }
    catch (Exception e) when (e is HubException or IOException or ConfigurationException or CheckpointException or InsufficientMemoryException or ArgumentException or InvalidOperationException)
    {
        // Expected failures (no network, a wrong path, a broken checkpoint): the message says what to do.
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
return await root.Parse(args).InvokeAsync();
