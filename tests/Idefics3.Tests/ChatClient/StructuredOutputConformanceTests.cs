using System.Text.Json;
using Idefics3.StructuredOutput;
using Microsoft.Extensions.AI;

namespace Idefics3.Tests.ChatClient;

/// <summary>
/// The structured-output intents of Microsoft.Extensions.AI's ChatClientIntegrationTests on the tiny random model:
/// its answers are noise, so the constraint alone makes them valid, typed objects.
/// </summary>
[Collection(ChatClientTestGroup.Name)]
public sealed class StructuredOutputConformanceTests
{
    private readonly ChatClientFixture _fixture;

    public StructuredOutputConformanceTests(ChatClientFixture fixture) => _fixture = fixture;

    public enum JobType
    {
        Surgeon,
        PopStar,
        Programmer,
        Unknown,
    }

    public sealed class Person
    {
        public string? FullName { get; set; }

        public int AgeInYears { get; set; }

        public string? HomeTown { get; set; }

        public JobType Job { get; set; }
    }

    private Idefics3ChatClient Client => _fixture.Client;

    private static ChatOptions Options(int maxTokens = 160) => new() { Temperature = 0, MaxOutputTokens = maxTokens };

    [Fact]
    public async Task GetResponseAsync_StructuredOutput()
    {
        ChatResponse<Person> response = await Client.GetResponseAsync<Person>("Who is Jimbo Smith, the 35-year-old programmer from Cardiff?", Options());

        Assert.True(response.TryGetResult(out Person? person), response.Text);
        Assert.NotNull(person);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(true, response.AdditionalProperties?["json_complete"]);
        Assert.Equal(true, ChatClientFixture.Raw(response).ConstraintSatisfied);
        // The schema was also shown to the model as a system instruction.
        string prompt = _fixture.Engine.Tokenizer.Decode(ChatClientFixture.Raw(response).InputIds);
        Assert.Contains("\"fullName\"", prompt, StringComparison.Ordinal);
        Assert.Contains("Answer with a single JSON value", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_StructuredOutputArray()
    {
        ChatResponse<Person[]> response = await Client.GetResponseAsync<Person[]>("Name two famous people.", Options(240));
        Assert.True(response.TryGetResult(out Person[]? people), response.Text);
        Assert.NotNull(people);
    }

    [Fact]
    public async Task GetResponseAsync_StructuredOutputInteger()
    {
        ChatResponse<int> response = await Client.GetResponseAsync<int>("What is 12 times 3?", Options());
        Assert.True(response.TryGetResult(out int value), response.Text);
        Assert.Equal(value, JsonDocument.Parse(response.Text).RootElement.GetProperty("data").GetInt32());
    }

    [Fact]
    public async Task GetResponseAsync_StructuredOutputString()
    {
        ChatResponse<string> response = await Client.GetResponseAsync<string>("Which city is the capital of France?", Options());
        Assert.True(response.TryGetResult(out string? value), response.Text);
        Assert.NotNull(value);
    }

    [Theory]
    [InlineData("Is the sky blue?")]
    [InlineData("Is a cat a dog?")]
    public async Task GetResponseAsync_StructuredOutputBool(string question)
    {
        ChatResponse<bool> response = await Client.GetResponseAsync<bool>(question, Options());
        Assert.True(response.TryGetResult(out _), response.Text);
    }

    [Fact]
    public async Task GetResponseAsync_StructuredOutputEnum()
    {
        ChatResponse<JobType> response = await Client.GetResponseAsync<JobType>("What is Jimbo's job?", Options());
        Assert.True(response.TryGetResult(out JobType job), response.Text);
        Assert.True(Enum.IsDefined(job));
    }

    [Fact]
    public async Task GetResponseAsync_StructuredOutput_NonNative()
    {
        // Without the schema response format MEAI sends ChatResponseFormat.Json plus the schema in a user message.
        ChatResponse<Person> response = await Client.GetResponseAsync<Person>("Who is Jimbo Smith?", Options(), useJsonSchemaResponseFormat: false);
        using JsonDocument doc = JsonDocument.Parse(response.Text);
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
    }

    [Fact]
    public async Task Streaming_gives_the_same_valid_document_as_non_streaming()
    {
        ChatOptions options = Options();
        options.ResponseFormat = ChatResponseFormat.ForJsonSchema<Person>();
        ChatResponse whole = await Client.GetResponseAsync("Who is Jimbo Smith?", options);
        List<ChatResponseUpdate> updates = [];
        await foreach (ChatResponseUpdate update in Client.GetStreamingResponseAsync("Who is Jimbo Smith?", options))
        {
            updates.Add(update);
        }

        ChatResponse streamed = updates.ToChatResponse();
        Assert.Equal(whole.Text, streamed.Text);
        Assert.Equal(ChatFinishReason.Stop, streamed.FinishReason);
        Assert.Equal(true, updates[^1].AdditionalProperties?["json_complete"]);
        Assert.NotNull(JsonSerializer.Deserialize<Person>(streamed.Text, AIJsonUtilities.DefaultOptions));
    }

    [Fact]
    public async Task A_budget_too_small_ends_with_Length_and_says_the_json_is_incomplete()
    {
        ChatOptions options = Options(maxTokens: 3);
        options.ResponseFormat = ChatResponseFormat.ForJsonSchema<Person>();
        ChatResponse response = await Client.GetResponseAsync("Who is Jimbo Smith?", options);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(false, response.AdditionalProperties?["json_complete"]);
        Assert.Equal(false, ChatClientFixture.Raw(response).ConstraintSatisfied);
    }

    [Fact]
    public async Task An_unsupported_schema_keyword_is_a_typed_error_naming_it()
    {
        ChatOptions options = Options();
        using JsonDocument schema = JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"integer","multipleOf":5}}}""");
        options.ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement.Clone(), "Five");
        var ex = await Assert.ThrowsAsync<StructuredOutputSchemaException>(() => Client.GetResponseAsync("Count.", options));
        Assert.Equal("multipleOf", ex.Keyword);
    }
}
