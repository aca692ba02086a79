using System.Text.Json;
using Idefics3.Tests;

namespace Idefics3.Cli.Tests;

/// <summary>
/// <c>ask</c> on a folder of the genuine SmolVLM files plus random weights of the exact 256M and 500M shapes, as a new
/// user would run it: the tool loads it with its defaults, answers, and stops on &lt;end_of_utterance&gt; (the weights
/// make the model write &lt;|im_end|&gt; mid-answer, where Hugging Face's <c>generate</c> does not stop either).
/// </summary>
public sealed class GenuineRandomModelCommandTests
{
    [Theory]
    [InlineData("smolvlm-256m-instruct")]
    [InlineData("smolvlm-500m-instruct")]
    public async Task Ask_answers_and_stops_on_end_of_utterance(string shape)
    {
        var model = GenuineRandomModel.Create(CliRunner.FixturePath(), shape);

        CliResult result = await CliRunner.RunAsync(["ask", "--model", model.Folder, "--threads", "1", "--max-tokens", "8", "--json", "Say hello."]);

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        JsonElement root = json.RootElement;
        Assert.Equal(model.ExpectedOutputIds, root.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Equal(GenuineRandomModel.ExpectedText, root.GetProperty("text").GetString());
        Assert.Equal("stop", root.GetProperty("finish_reason").GetString());
        Assert.Equal(1, root.GetProperty("input_ids")[0].GetInt32()); // <|im_start|> from the template, no second BOS
    }
}
