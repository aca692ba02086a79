using Idefics3.Samples.DocumentQA;

namespace Idefics3.Samples.Tests;

public sealed class Bm25IndexTests
{
    [Fact]
    public void Tokenizer_lowercases_folds_accents_plurals_and_drops_stop_words()
    {
        Assert.Equal(["cafe", "battery", "visitor", "2023", "glass"], Bm25Tokenizer.Tokenize("The Café's batteries, VISITORS in 2023: glass!"));
    }

    [Fact]
    public void Page_with_the_query_terms_ranks_first()
    {
        var index = new Bm25Index<string>();
        index.Add("inverter-install", "Mount the inverter on a wall. Keep 30 cm free space for cooling. DC isolator off.");
        index.Add("inverter-maintenance", "Clean the air filter every six months. Warranty 10 years on the inverter.");
        index.Add("library", "The library had 182,400 visitors and a new makerspace with 3D printers.");
        index.Add("receipt", "Two cappuccinos and an almond croissant, total 10.50 EUR, paid by card.");

        IReadOnlyList<SearchHit<string>> hits = index.Search("How often should the air filter be cleaned?", 3);

        Assert.Equal("inverter-maintenance", hits[0].Item);
        Assert.Single(hits); // no other page shares a term with the question
        Assert.Equal("library", index.Search("library visitors", 1)[0].Item);
    }

    [Fact]
    public void Rare_terms_weigh_more_and_long_pages_are_normalised()
    {
        var index = new Bm25Index<string>();
        index.Add("a", "inverter warranty");
        index.Add("b", "inverter manual");
        index.Add("c", "inverter cooling");

        Assert.True(index.Idf("warranty") > index.Idf("inverter"));
        Assert.Equal("a", index.Search("inverter warranty", 1)[0].Item);

        var lengths = new Bm25Index<string>();
        lengths.Add("short", "filter");
        lengths.Add("long", "filter " + string.Join(' ', Enumerable.Range(0, 50).Select(i => $"word{i}")));
        IReadOnlyList<SearchHit<string>> hits = lengths.Search("filter", 2);
        Assert.Equal("short", hits[0].Item);
        Assert.True(hits[0].Score > hits[1].Score);
    }

    [Fact]
    public async Task Sample_documents_rank_the_page_holding_the_answer_first()
    {
        using IngestResult ingest = await new DocumentIngestor(new PdfPageRenderer(), TextWriter.Null).IngestAsync(SampleFixtures.Documents);
        Bm25Index<DocumentPage> index = DocumentQaApp.BuildIndex(ingest.Pages);

        Assert.Equal("solar-inverter-manual.pdf, page 2", index.Search("How often should the air filter be cleaned?", 2)[0].Item.Citation);
        Assert.Equal("harbor-library-report-2023.pdf, page 1", index.Search("How many visitors did the library have?", 2)[0].Item.Citation);
        Assert.Equal("harbor-library-report-2023.pdf, page 2", index.Search("makerspace budget", 2)[0].Item.Citation);
        Assert.Equal("cafe-receipt.png, page 1", index.Search("croissant total", 2)[0].Item.Citation);
        Assert.Equal("team-meeting-notes.jpg, page 1", index.Search("meeting notes", 2)[0].Item.Citation); // by its file name
    }
}
