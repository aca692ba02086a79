namespace Idefics3.Cli.Tests;

/// <summary>Parsing and validation: help, unknown commands and flags, out-of-range values (exit code 2).</summary>
public sealed class CommandLineTests
{
    [Fact]
    public async Task Help_lists_the_commands()
    {
        CliResult result = await CliRunner.RunAsync(["--help"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (string command in new[] { "ask", "chat", "download", "info" })
        {
            Assert.Contains(command, result.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("idefics3", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ask", "--bogus-flag", "hi")]
    [InlineData("ask", "--temperature", "-1", "hi")]
    [InlineData("ask", "--top-p", "0", "hi")]
    [InlineData("ask", "--max-tokens", "0", "hi")]
    [InlineData("ask", "--logprobs", "21", "hi")]
    [InlineData("ask", "--logprobs", "3", "hi")]
    [InlineData("ask", "--longest-edge", "abc", "hi")]
    [InlineData("ask", "--dtype", "int8", "hi")]
    [InlineData("ask")]
    [InlineData("chat", "--device", "gpu")]
    [InlineData("info", "--device", "cuda:x")]
    [InlineData("frobnicate")]
    [InlineData()]
    public async Task Invalid_command_lines_exit_with_2_and_a_message(params string[] args)
    {
        CliResult result = await CliRunner.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("idefics3: error:", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public async Task An_invalid_model_id_is_a_usage_error()
    {
        CliResult result = await CliRunner.RunAsync(["info", "--model", "not a/valid/repo id"]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("neither an existing folder nor a Hugging Face repository id", result.Stderr, StringComparison.Ordinal);
    }
}
