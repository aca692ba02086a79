using System.Text.Json;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Idefics3.SemanticKernel.Tests;

/// <summary>Structured output through Semantic Kernel's response_format setting and Agent Framework's RunAsync&lt;T&gt;, on the tiny random model.</summary>
public sealed class StructuredOutputTests : IClassFixture<KernelFixture>
{
    private readonly KernelFixture _fixture;

    public StructuredOutputTests(KernelFixture fixture) => _fixture = fixture;

    public sealed record City(string Name, int Population, bool Capital);

    public static TheoryData<string> Formats() => new() { "type", "schema-element", "openai-shape", "extension-data" };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Response_format_in_the_execution_settings_gives_json_of_the_schema(string form)
    {
        JsonElement schema = AIJsonUtilities.CreateJsonSchema(typeof(City));
        var settings = new Idefics3PromptExecutionSettings { Temperature = 0, MaxTokens = 120 };
        switch (form)
        {
            case "type":
                settings.ResponseFormat = typeof(City);
                break;
            case "schema-element":
                settings.ResponseFormat = schema;
                break;
            case "openai-shape":
                settings.ResponseFormat = JsonSerializer.SerializeToElement(new { type = "json_schema", json_schema = new { name = "City", schema } });
                break;
            default:
                settings.ExtensionData = new Dictionary<string, object> { ["response_format"] = schema };
                break;
        }

        ChatMessageContent reply = await _fixture.ChatCompletion.GetChatMessageContentAsync(new ChatHistory("Describe Paris."), settings);

        City? city = JsonSerializer.Deserialize<City>(reply.Content!, AIJsonUtilities.DefaultOptions);
        Assert.NotNull(city);
    }

    [Fact]
    public async Task Json_object_setting_streams_an_object_equal_to_the_non_streamed_one()
    {
        var settings = new Idefics3PromptExecutionSettings { Temperature = 0, MaxTokens = 60, ResponseFormat = "json_object" };
        ChatMessageContent reply = await _fixture.ChatCompletion.GetChatMessageContentAsync(new ChatHistory("Anything."), settings);
        var streamed = new System.Text.StringBuilder();
        await foreach (StreamingChatMessageContent chunk in _fixture.ChatCompletion.GetStreamingChatMessageContentsAsync(new ChatHistory("Anything."), settings))
        {
            streamed.Append(chunk.Content);
        }

        Assert.Equal(reply.Content, streamed.ToString());
        using JsonDocument doc = JsonDocument.Parse(reply.Content!);
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
    }

    [Fact]
    public async Task An_unknown_response_format_value_is_refused()
    {
        var settings = new Idefics3PromptExecutionSettings { ResponseFormat = 42 };
        await Assert.ThrowsAsync<ArgumentException>(() => _fixture.ChatCompletion.GetChatMessageContentAsync(new ChatHistory("x"), settings));
    }

    [Fact]
    public async Task An_agent_returns_typed_objects_streaming_and_not()
    {
        AIAgent agent = _fixture.ChatClient.AsAIAgent(instructions: "You answer about cities.");
        var options = new ChatClientAgentRunOptions(new ChatOptions { Temperature = 0, MaxOutputTokens = 120 });

        AgentResponse<City> typed = await agent.RunAsync<City>("Describe Paris.", options: options);
        Assert.NotNull(typed.Result);

        var streamingOptions = new ChatClientAgentRunOptions(new ChatOptions { Temperature = 0, MaxOutputTokens = 120, ResponseFormat = ChatResponseFormat.ForJsonSchema<City>() });
        var text = new System.Text.StringBuilder();
        await foreach (AgentResponseUpdate update in agent.RunStreamingAsync("Describe Paris.", options: streamingOptions))
        {
            text.Append(update.Text);
        }

        Assert.NotNull(JsonSerializer.Deserialize<City>(text.ToString(), AIJsonUtilities.DefaultOptions));
    }
}
