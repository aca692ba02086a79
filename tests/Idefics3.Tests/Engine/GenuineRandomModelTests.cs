using System.Diagnostics;
using Idefics3.Generation;
using Idefics3.Processing;
using Microsoft.Extensions.AI;
using Xunit.Abstractions;

namespace Idefics3.Tests.Engine;

/// <summary>
/// The genuine SmolVLM files plus random weights of the exact 256M and 500M shapes load as a new user's folder, answer
/// through the engine and the chat client, and stop where Hugging Face's <c>generate</c> stops: on the generation
/// config's &lt;end_of_utterance&gt; (49279), not on text_config's &lt;|im_end|&gt; (2), which the weights make the model
/// write in the middle of its answer.
/// </summary>
public sealed class GenuineRandomModelTests(ITestOutputHelper output)
{
    public static TheoryData<string> Shapes() => new() { "smolvlm-256m-instruct", "smolvlm-500m-instruct" };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Folder_loads_and_answers_through_engine_and_chat_client_stopping_on_end_of_utterance(string shape)
    {
        var watch = Stopwatch.StartNew();
        var model = GenuineRandomModel.Create(TestFixtures.PathOf(), shape);
        output.WriteLine($"folder written in {watch.ElapsedMilliseconds} ms");
        using var engine = await Idefics3Engine.LoadAsync(model.Folder, new Idefics3EngineOptions { Threads = 1 });
        output.WriteLine($"loaded at {watch.ElapsedMilliseconds} ms");

        Assert.Equal([49279], engine.EndOfSequenceTokenIds);
        Assert.Equal(shape == "smolvlm-256m-instruct" ? 576 : 960, engine.Config.Text.HiddenSize);

        var result = await engine.GenerateAsync([PromptMessage.FromText("user", "Say hello.")], new GenerationOptions { MaxNewTokens = 8 });
        Assert.Equal(model.ExpectedOutputIds, result.OutputIds);
        Assert.Equal(FinishReason.Stop, result.FinishReason);
        Assert.Equal(GenuineRandomModel.ExpectedText, result.Text);

        // A caller's stop token (here <|im_end|>) still ends the answer early.
        var stopped = await engine.GenerateAsync(
            [PromptMessage.FromText("user", "Say hello.")],
            new GenerationOptions { MaxNewTokens = 8, StopTokenIds = [2] });
        Assert.Equal(model.ExpectedOutputIds[..2], stopped.OutputIds);
        Assert.Equal("Hello", stopped.Text);
        output.WriteLine($"engine answers at {watch.ElapsedMilliseconds} ms");

        using var client = new Idefics3ChatClient(engine);
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Say hello.")], new ChatOptions { MaxOutputTokens = 8 });
        Assert.Equal(GenuineRandomModel.ExpectedText, response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(4, response.Usage!.OutputTokenCount);
        output.WriteLine($"chat client answers at {watch.ElapsedMilliseconds} ms");
    }
}
