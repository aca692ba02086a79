using System.Text.Json;
using Idefics3.Processing;

namespace Idefics3.Cli.Tests;

/// <summary><c>ask</c> on the tiny random model: mechanics and exact token ids (the answers themselves are nonsense).</summary>
public sealed class AskCommandTests(TinyEngineFixture fixture) : IClassFixture<TinyEngineFixture>
{
    // The golden single_image prompt of the Hugging Face reference, without its legacy second BOS (the tool sends one).
    private static readonly int[] s_goldenSingleImagePrompt =
    [
        256, 85, 115, 101, 114, 58, 258, 261, 259, 259, 259, 259, 258, 68, 101, 115, 99, 114, 105, 98, 101, 32, 116, 104,
        105, 115, 32, 105, 109, 97, 103, 101, 46, 260, 10, 65, 115, 115, 105, 115, 116, 97, 110, 116, 58,
    ];

    [Fact]
    public async Task Json_output_has_the_golden_prompt_ids_and_the_engines_output_ids()
    {
        CliResult result = await CliRunner.RunAsync(
            [.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--image", TinyEngineFixture.ImageA, "--no-split", "--max-tokens", "10", "--json", "Describe this image."]);

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Stdout); // stdout is exactly one JSON object
        JsonElement root = json.RootElement;
        Assert.Equal(s_goldenSingleImagePrompt, Ints(root.GetProperty("input_ids")));

        GenerationResult expected = await fixture.GenerateAsync(
            [PromptMessage.Create("user", TinyEngineFixture.Image(TinyEngineFixture.ImageA), new PromptText("Describe this image."))],
            10,
            new ProcessorOptions { DoImageSplitting = false });
        Assert.Equal(expected.OutputIds, Ints(root.GetProperty("output_ids")));
        Assert.Equal(expected.Text, root.GetProperty("text").GetString());
        Assert.Equal("length", root.GetProperty("finish_reason").GetString());
        JsonElement usage = root.GetProperty("usage");
        Assert.Equal(s_goldenSingleImagePrompt.Length, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(4, usage.GetProperty("image_tokens").GetInt32());
        Assert.Equal(10, usage.GetProperty("output_tokens").GetInt32());
        Assert.True(root.GetProperty("timings").GetProperty("decode_ms").GetDouble() >= 0);
        Assert.False(root.TryGetProperty("logprobs", out _));
    }

    [Fact]
    public async Task Streamed_text_equals_the_json_text_and_images_come_first_in_order()
    {
        string[] args = [.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--image", TinyEngineFixture.ImageB, "--image", TinyEngineFixture.ImageA, "--system", "Be brief.", "--max-tokens", "12", "What differs?"];
        Task<CliResult> streamed = CliRunner.RunAsync(args);
        CliResult json = await CliRunner.RunAsync([.. args, "--json"]);
        CliResult stream = await streamed;

        Assert.True(stream.ExitCode == 0, stream.ToString());
        Assert.True(json.ExitCode == 0, json.ToString());
        using JsonDocument doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(doc.RootElement.GetProperty("text").GetString() + "\n", stream.Stdout);

        GenerationResult expected = await fixture.GenerateAsync(
            [
                PromptMessage.FromText("system", "Be brief."),
                PromptMessage.Create("user", TinyEngineFixture.Image(TinyEngineFixture.ImageB), TinyEngineFixture.Image(TinyEngineFixture.ImageA), new PromptText("What differs?")),
            ],
            12);
        Assert.Equal(expected.InputIds, Ints(doc.RootElement.GetProperty("input_ids")));
        Assert.Equal(expected.OutputIds, Ints(doc.RootElement.GetProperty("output_ids")));
        // Progress and statistics go to stderr only.
        Assert.Contains("prompt tokens", stream.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logprobs_give_k_alternatives_per_generated_token()
    {
        CliResult result = await CliRunner.RunAsync(
            [.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--max-tokens", "5", "--json", "--logprobs", "3", "Hello"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        int[] output = Ints(json.RootElement.GetProperty("output_ids"));
        JsonElement[] logprobs = [.. json.RootElement.GetProperty("logprobs").EnumerateArray()];
        Assert.Equal(output.Length, logprobs.Length);
        for (int i = 0; i < output.Length; i++)
        {
            Assert.Equal(output[i], logprobs[i].GetProperty("id").GetInt32());
            JsonElement[] top = [.. logprobs[i].GetProperty("top").EnumerateArray()];
            Assert.Equal(3, top.Length);
            double[] values = [.. top.Select(t => t.GetProperty("logprob").GetDouble())];
            Assert.Equal(values.OrderDescending(), values);
            Assert.All(values, v => Assert.True(v <= 0));
            // Greedy: the chosen token is the most likely one.
            Assert.Equal(output[i], top[0].GetProperty("id").GetInt32());
            Assert.Equal(values[0], logprobs[i].GetProperty("logprob").GetDouble(), 5);
        }
    }

    [Fact]
    public async Task A_prompt_of_dash_is_read_from_stdin()
    {
        CliResult result = await CliRunner.RunAsync([.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--quiet", "--max-tokens", "3", "--json", "-"], stdin: "Hello");

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        GenerationResult expected = await fixture.GenerateAsync([PromptMessage.FromText("user", "Hello")], 3);
        Assert.Equal(expected.InputIds, Ints(json.RootElement.GetProperty("input_ids")));
    }

    [Fact]
    public async Task A_missing_image_file_is_a_usage_error_before_the_model_loads()
    {
        CliResult result = await CliRunner.RunAsync([.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--image", "no-such-image.png", "What is it?"]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("no-such-image.png", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Loading", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_undecodable_image_fails_with_exit_1_and_one_line()
    {
        string path = Path.Combine(Path.GetTempPath(), $"idefics3-cli-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(path, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4, 5, 6, 7, 8]);
        try
        {
            CliResult result = await CliRunner.RunAsync([.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--quiet", "--image", path, "What is it?"]);

            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("idefics3: error:", result.Stderr, StringComparison.Ordinal);
            Assert.Equal(string.Empty, result.Stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_request_over_the_context_window_fails_with_exit_1()
    {
        CliResult result = await CliRunner.RunAsync([.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--quiet", "--max-tokens", "200000", "Hi"]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("context window", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verbose_errors_include_the_stack_trace()
    {
        CliResult result = await CliRunner.RunAsync([.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--verbose", "--max-tokens", "200000", "Hi"]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_then_ask_by_repository_id_through_the_hub_emulator()
    {
        await using var hub = HubFixture.Start();
        CliResult download = await CliRunner.RunAsync(["download", HubFixture.RepoId], hub.Environment());
        Assert.True(download.ExitCode == 0, download.ToString());

        // Offline: the answer comes from the cached snapshot.
        CliResult result = await CliRunner.RunAsync(
            ["ask", "--model", HubFixture.RepoId, "--dtype", "float32", "--threads", "1", "--max-tokens", "6", "--json", "Hello"],
            hub.Environment(offline: true));

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(HubFixture.RepoId, json.RootElement.GetProperty("model").GetString());
        GenerationResult expected = await fixture.GenerateAsync([PromptMessage.FromText("user", "Hello")], 6);
        Assert.Equal(expected.OutputIds, Ints(json.RootElement.GetProperty("output_ids")));
    }

    [Fact]
    public async Task An_image_url_is_downloaded_and_gives_the_same_answer_as_the_file()
    {
        await using var hub = HubFixture.Start();
        string[] common = [.. TinyEngineFixture.CommonArgs.Prepend("ask"), "--quiet", "--no-split", "--max-tokens", "6", "--json"];

        CliResult fromUrl = await CliRunner.RunAsync([.. common, "--image", hub.ImageUrl.ToString(), "What is it?"]);
        CliResult missing = await CliRunner.RunAsync([.. common, "--image", new Uri(hub.Hub.Endpoint, "nothing/here.png").ToString(), "What is it?"]);

        Assert.True(fromUrl.ExitCode == 0, fromUrl.ToString());
        using JsonDocument json = JsonDocument.Parse(fromUrl.Stdout);
        GenerationResult expected = await fixture.GenerateAsync(
            [PromptMessage.Create("user", TinyEngineFixture.Image(TinyEngineFixture.ImageA), new PromptText("What is it?"))],
            6,
            new ProcessorOptions { DoImageSplitting = false });
        Assert.Equal(expected.InputIds, Ints(json.RootElement.GetProperty("input_ids")));
        Assert.Equal(expected.OutputIds, Ints(json.RootElement.GetProperty("output_ids")));
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("404", missing.Stderr, StringComparison.Ordinal);
    }

    private static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];
}
