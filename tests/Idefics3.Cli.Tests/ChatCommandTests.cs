using Idefics3.Processing;

namespace Idefics3.Cli.Tests;

/// <summary><c>chat</c> driven through piped stdin.</summary>
public sealed class ChatCommandTests(TinyEngineFixture fixture) : IClassFixture<TinyEngineFixture>
{
    [Fact]
    public async Task Piped_chat_keeps_the_history_attaches_images_and_resets()
    {
        string input = string.Join('\n', "What is this?", "/image " + TinyEngineFixture.ImageA, "Describe it.", "/reset", "Hello again", string.Empty);

        CliResult result = await CliRunner.RunAsync([.. TinyEngineFixture.CommonArgs.Prepend("chat"), "--max-tokens", "8", "--verbose"], stdin: input);

        Assert.True(result.ExitCode == 0, result.ToString());
        PromptMessage first = PromptMessage.FromText("user", "What is this?");
        GenerationResult turn1 = await fixture.GenerateAsync([first], 8);
        PromptMessage second = PromptMessage.Create("user", TinyEngineFixture.Image(TinyEngineFixture.ImageA), new PromptText("Describe it."));
        GenerationResult turn2 = await fixture.GenerateAsync([first, PromptMessage.FromText("assistant", turn1.Text), second], 8);
        GenerationResult turn3 = await fixture.GenerateAsync([PromptMessage.FromText("user", "Hello again")], 8);
        Assert.Equal(turn1.Text + "\n" + turn2.Text + "\n" + turn3.Text + "\n", result.Stdout);
        Assert.Contains("(image attached", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("(conversation cleared)", result.Stderr, StringComparison.Ordinal);
        // Per-turn statistics (--verbose): the second turn's prompt contains the first exchange.
        string[] stats = [.. result.Stderr.Split('\n').Where(l => l.StartsWith('[') && l.Contains("prompt tokens", StringComparison.Ordinal))];
        Assert.Equal(3, stats.Length);
        Assert.StartsWith($"[{turn1.Usage.InputTokens} prompt tokens", stats[0], StringComparison.Ordinal);
        Assert.StartsWith($"[{turn2.Usage.InputTokens} prompt tokens", stats[1], StringComparison.Ordinal);
        Assert.Contains("cached)", stats[1], StringComparison.Ordinal); // the engine's prefix cache served the history
        Assert.StartsWith($"[{turn3.Usage.InputTokens} prompt tokens", stats[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_image_command_is_reported_and_the_chat_goes_on()
    {
        string input = string.Join('\n', "/image no-such-file.png", "/frobnicate", "Hi", "/quit", "Never read", string.Empty);

        CliResult result = await CliRunner.RunAsync([.. TinyEngineFixture.CommonArgs.Prepend("chat"), "--quiet", "--max-tokens", "4"], stdin: input);

        Assert.True(result.ExitCode == 0, result.ToString());
        GenerationResult expected = await fixture.GenerateAsync([PromptMessage.FromText("user", "Hi")], 4);
        Assert.Equal(expected.Text + "\n", result.Stdout);
        Assert.Contains("no-such-file.png", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Unknown command '/frobnicate'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_C_while_waiting_for_input_exits_with_130()
    {
        CliResult result = await CliRunner.RunAsync(
            [.. TinyEngineFixture.CommonArgs.Prepend("chat")],
            whileRunning: async (process, _, stderr) =>
            {
                await CliRunner.WaitForAsync(stderr, "Loaded", TimeSpan.FromSeconds(60));
                await Task.Delay(1000); // let the chat reach its input loop, also on a loaded machine
                await CliRunner.InterruptAsync(process);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            });

        Assert.True(result.ExitCode == 130, result.ToString());
        Assert.Contains("cancelled", result.Stderr, StringComparison.Ordinal);
    }
}
