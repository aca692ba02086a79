using System.Text;
using Idefics3.Templates;
using Xunit.Abstractions;

namespace Idefics3.Tests.Campaign;

/// <summary>
/// Hostile chat templates (they arrive with downloaded checkpoints): deep nesting, huge ranges, string and list
/// blow-ups, endless loops. Each must fail with a <see cref="TemplateException"/> naming the limit, fast and small.
/// </summary>
[Collection(CampaignGroup.Name)]
public sealed class HostileTemplateCampaign
{
    private readonly CampaignProbe _probe;

    public HostileTemplateCampaign(ITestOutputHelper output) => _probe = new CampaignProbe(output);

    public static TheoryData<string, string> Cases()
    {
        int n = CampaignProbe.Large ? 50_000 : 8000;
        var data = new TheoryData<string, string>
        {
            { "4000 nested parentheses", "{{ " + new string('(', 4000) + "1" + new string(')', 4000) + " }}" },
            { "4000 nested lists", "{{ " + new string('[', 4000) + new string(']', 4000) + " }}" },
            { $"{n} nested if blocks", Repeat("{% if true %}", n) + "x" + Repeat("{% endif %}", n) },
            { $"{n} nested for blocks", Repeat("{% for i in [1] %}", n) + "x" + Repeat("{% endfor %}", n) },
            { $"{n} unclosed if blocks", Repeat("{% if true %}", n) },
            { $"{n} x not", "{{ " + Repeat("not ", n) + "true }}" },
            { $"{n} x unary minus", "{{ " + Repeat("-", n) + "1 }}" },
            { $"{n}-term sum", "{{ 1" + Repeat(" + 1", n) + " }}" },
            { $"{n}-long attribute chain", "{{ x" + Repeat(".a", n) + " }}" },
            { $"{n}-long filter chain", "{{ 'a'" + Repeat("|upper", n) + " }}" },
            { $"{n}-deep inline if", "{{ " + Repeat("1 if false else ", n) + "2 }}" },
            { "range(1000000000)", "{% for i in range(1000000000) %}{% endfor %}" },
            { "range(-9223372036854775807, 9223372036854775807)", "{{ range(-9223372036854775807, 9223372036854775807)|length }}" },
            { "'x' * 1000000000", "{{ 'x' * 1000000000 }}" },
            { "'xy' * 9223372036854775807", "{{ 'xy' * 9223372036854775807 }}" },
            { "100000 x 100000 loop", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}" },
            { "string doubling", "{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}" },
            { "list doubling", "{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}" },
            { "replace blow-up", "{% set s = 'x' * 1000000 %}{{ s.replace('x', s)|length }}" },
            { "replace with empty pattern", "{% set s = 'x' * 10000000 %}{{ s|replace('', 'abcdefgh')|length }}" },
            { "join blow-up", "{% set s = 'x' * 1000000 %}{% set l = [s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s] %}{{ (l + l + l)|join(s)|length }}" },
            { "deep value nesting", "{% set ns = namespace(v=1) %}{% for i in range(100000) %}{% set ns.v = [ns.v] %}{% endfor %}{{ ns.v }}" },
            { "deep value tojson", "{% set ns = namespace(v=1) %}{% for i in range(100000) %}{% set ns.v = [ns.v] %}{% endfor %}{{ ns.v|tojson }}" },
            { "deep value equality", "{% set ns = namespace(v=1, w=1) %}{% for i in range(100000) %}{% set ns.v = [ns.v] %}{% set ns.w = [ns.w] %}{% endfor %}{{ ns.v == ns.w }}" },
            { "output flood", "{% set s = 'x' * 10000000 %}{% for i in range(100) %}{{ s }}{% endfor %}" },
            { "slice with a huge step", "{{ 'abc'[0:3:9223372036854775807] }}{{ [1,2,3][::-9223372036854775807] }}" },
            { "list of a long string", "{{ ('x' * 16000000)|list|length }}" },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Hostile_templates_fail_typed_fast_and_small(string name, string source)
    {
        Exception? error = await _probe.RunAsync(
            name,
            () => Task.Run(() =>
            {
                ChatTemplate template = ChatTemplate.Parse(source);
                _ = template.Render(new Dictionary<string, object?> { ["x"] = new Dictionary<string, object?>() });
            }),
            maxSeconds: 20,
            maxGrowthMb: 600,
            typeof(TemplateException));
        if (name.StartsWith("slice", StringComparison.Ordinal))
        {
            Assert.Null(error); // a legal template: clamped, same answer as Python ('a', [3])
            return;
        }

        Assert.IsType<TemplateException>(error);
    }

    [Fact]
    public void The_limits_keep_python_results_for_legal_templates()
    {
        Assert.Equal("a[3]", ChatTemplate.Parse("{{ 'abc'[0:3:9223372036854775807] }}{{ [1,2,3][::-9223372036854775807] }}").Render(new Dictionary<string, object?>()));
        Assert.Equal("-a-b-", ChatTemplate.Parse("{{ 'ab'|replace('', '-') }}").Render(new Dictionary<string, object?>()));
        Assert.Equal("100000", ChatTemplate.Parse("{{ range(100000)|length }}").Render(new Dictionary<string, object?>()));
        Assert.Equal("[9, 6, 3]", ChatTemplate.Parse("{{ range(9, 0, -3)|list }}").Render(new Dictionary<string, object?>()));
        Assert.Equal(new string('x', 100), ChatTemplate.Parse("{{ 'x' * 100 }}").Render(new Dictionary<string, object?>()));
        string nested = "{{ " + new string('(', 50) + "1" + new string(')', 50) + " }}";
        Assert.Equal("1", ChatTemplate.Parse(nested).Render(new Dictionary<string, object?>()));
    }

    [Fact]
    public void Limit_errors_name_the_limit_and_the_position()
    {
        var error = Assert.Throws<TemplateException>(() => ChatTemplate.Parse("{{ range(100001) }}").Render(new Dictionary<string, object?>()));
        Assert.Contains("100000", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Line);

        error = Assert.Throws<TemplateException>(() => ChatTemplate.Parse("\n" + Repeat("{% if true %}", 200) + Repeat("{% endif %}", 200)));
        Assert.Contains("nested deeper than", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public async Task Rendering_honours_cancellation()
    {
        ChatTemplate template = ChatTemplate.Parse("{% for i in range(100000) %}{% for j in range(9) %}{{ i }}{% endfor %}{% endfor %}");
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await _probe.RunAsync(
            "cancelled rendering",
            () => Task.Run(() => template.Render(new Dictionary<string, object?>(), cts.Token)),
            maxSeconds: 5,
            maxGrowthMb: 200,
            typeof(OperationCanceledException));

        using var later = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Run(() =>
        {
            for (int i = 0; ; i++)
            {
                // Each rendering is legal and bounded; the token stops the caller's loop of renderings too.
                template.Render(new Dictionary<string, object?>(), later.Token);
            }
        }));
    }

    private static string Repeat(string s, int count) => new StringBuilder(s.Length * count).Insert(0, s, count).ToString();
}
