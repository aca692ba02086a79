using Idefics3.Generation;
using Idefics3.Processing;

namespace Idefics3.Cli.Tests;

/// <summary>
/// The tiny model loaded in-process in float32: the reference the tool's answers are compared with, token for token
/// (the engine itself is checked against the Hugging Face goldens in Idefics3.Tests).
/// </summary>
public sealed class TinyEngineFixture : IAsyncLifetime
{
    public Idefics3Engine Engine { get; private set; } = null!;

    public static string ImageA => CliRunner.FixturePath("images", "golden_A_56x56.png");

    public static string ImageB => CliRunner.FixturePath("images", "golden_B_64x48.png");

    /// <summary>Options every engine-backed test passes: exact float32, one thread (the CI machine is shared).</summary>
    public static string[] CommonArgs => ["--model", CliRunner.TinyModel, "--dtype", "float32", "--threads", "1"];

    public static PromptImage Image(string path) => new(File.ReadAllBytes(path), "image/png");

    public async Task InitializeAsync() =>
        Engine = await Idefics3Engine.LoadAsync(CliRunner.TinyModel, new Idefics3EngineOptions { DType = ModelDType.Float32, Threads = 1 });

    public async Task<GenerationResult> GenerateAsync(IReadOnlyList<PromptMessage> conversation, int maxTokens, ProcessorOptions? processing = null, int? topLogProbs = null) =>
        await Engine.GenerateAsync(
            conversation,
            new GenerationOptions { MaxNewTokens = maxTokens, LogProbs = topLogProbs is not null, TopLogProbs = topLogProbs ?? 0 },
            processing);

    public Task DisposeAsync()
    {
        Engine.Dispose();
        return Task.CompletedTask;
    }
}
