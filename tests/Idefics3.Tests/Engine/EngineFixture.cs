using System.Text.Json;
using Idefics3.Processing;

namespace Idefics3.Tests.Engine;

/// <summary>The tiny random Idefics3 checkpoint and its HF golden cases, loaded once per test class.</summary>
public sealed class EngineFixture : IAsyncLifetime
{
    public Idefics3Engine Engine { get; private set; } = null!;

    public JsonDocument Golden { get; } = TestFixtures.Json("tiny-idefics3", "golden.json");

    public static string ModelDirectory => TestFixtures.TinyModelDirectory;

    public static Task<Idefics3Engine> LoadAsync(Idefics3EngineOptions? options = null) =>
        Idefics3Engine.LoadAsync(ModelDirectory, options ?? new Idefics3EngineOptions { DType = ModelDType.Float32 });

    public async Task InitializeAsync() => Engine = await LoadAsync();

    public Task DisposeAsync()
    {
        Engine.Dispose();
        Golden.Dispose();
        return Task.CompletedTask;
    }

    public JsonElement Case(string name) => Golden.RootElement.GetProperty("cases").GetProperty(name);

    public static int[] FirstRow(JsonElement nested) => TestFixtures.Ints(nested[0]);

    public static byte[] Image(string name) => File.ReadAllBytes(TestFixtures.PathOf("images", "tiny", name));

    /// <summary>The conversation of the golden case <c>single_image</c>: image A, then its question.</summary>
    public static IReadOnlyList<PromptMessage> SingleImageConversation() =>
        [PromptMessage.Create("user", new PromptImage(Image("golden_A_56x56.png"), "image/png"), new PromptText("Describe this image."))];

    /// <summary>The conversation of the golden case <c>split_2x2</c>: image C, then its question.</summary>
    public static IReadOnlyList<PromptMessage> SplitConversation() =>
        [PromptMessage.Create("user", new PromptImage(Image("golden_C_120x100.png"), "image/png"), new PromptText("What do you see?"))];

    public static IReadOnlyList<PromptMessage> TextConversation() =>
        [PromptMessage.FromText("user", "What is the capital of France?")];
}
