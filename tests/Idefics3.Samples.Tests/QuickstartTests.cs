using Idefics3.Samples.Quickstart;
using Microsoft.Extensions.AI;

namespace Idefics3.Samples.Tests;

public sealed class QuickstartTests
{
    [Fact]
    public async Task Two_image_turns_are_answered_and_the_history_is_kept()
    {
        var output = new StringWriter();
        var options = new QuickstartOptions { Model = SampleFixtures.TinyModel, MaxTokens = 6 };

        IReadOnlyList<ChatMessage> history = await QuickstartApp.RunAsync(options, output);

        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.User, ChatRole.Assistant], history.Select(m => m.Role));
        Assert.Contains(history[0].Contents, c => c is DataContent { MediaType: "image/jpeg" });
        Assert.Contains(history[2].Contents, c => c is DataContent { MediaType: "image/png" });
        Assert.Equal("And how about this image?", history[2].Text);
        Assert.All(new[] { history[1], history[3] }, m => Assert.False(string.IsNullOrEmpty(m.Text)));

        string text = output.ToString();
        Assert.Contains("User: [lake.jpg] Can you describe this image?", text, StringComparison.Ordinal);
        Assert.Contains("User: [chart.png] And how about this image?", text, StringComparison.Ordinal);

        // The second prompt starts with the whole first turn, so its KV cache is reused: the history really was sent.
        string secondUsage = text.Split('\n').Last(l => l.Contains("reused from the prefix cache", StringComparison.Ordinal));
        Assert.DoesNotContain(", 0 reused", secondUsage, StringComparison.Ordinal);
    }
}
