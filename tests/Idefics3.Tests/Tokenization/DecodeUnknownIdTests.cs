namespace Idefics3.Tests.Tokenization;

public sealed class DecodeUnknownIdTests
{
    [Fact]
    public void Ids_beyond_the_tokenizer_vocabulary_decode_to_nothing_like_hugging_face()
    {
        var tokenizer = TestFixtures.TinyTokenizer;
        int[] hello = tokenizer.Encode("Hello");
        int[] withUnknown = [hello[0], 100_000, .. hello[1..], tokenizer.VocabularySize + 5];

        Assert.Equal("Hello", tokenizer.Decode(withUnknown));

        var streaming = tokenizer.CreateStreamingDecoder();
        string streamed = string.Concat(withUnknown.Select(streaming.Append)) + streaming.Flush();
        Assert.Equal("Hello", streamed);
    }
}
