// One question with a JPEG through the packed Idefics3 library, as an application would ask it.
using Idefics3;
using Microsoft.Extensions.AI;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: ConsumerApp <model folder> <image.jpg>");
    return 2;
}

using Idefics3Engine engine = await Idefics3Engine.LoadAsync(args[0], new Idefics3EngineOptions { Device = "cpu" }, null, null, CancellationToken.None);
using IChatClient client = new Idefics3ChatClient(engine);
var question = new ChatMessage(ChatRole.User, [new DataContent(File.ReadAllBytes(args[1]), "image/jpeg"), new TextContent("What is in this image?")]);
ChatResponse response = await client.GetResponseAsync([question], new ChatOptions { MaxOutputTokens = 8, Temperature = 0 });

Console.WriteLine($"model: {engine.ModelId}; input tokens: {response.Usage?.InputTokenCount}; output tokens: {response.Usage?.OutputTokenCount}");
Console.WriteLine($"answer: {response.Text}");
return response.Usage?.OutputTokenCount > 0 && response.Usage?.InputTokenCount > 0 ? 0 : 1;
