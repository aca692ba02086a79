using System.Diagnostics;
using Idefics3.Samples.ExtensionsAIPipeline;

namespace Idefics3.Samples.Tests;

public sealed class ExtensionsAIPipelineTests
{
    [Fact]
    public async Task Repeated_request_is_served_from_the_cache_and_traced()
    {
        int spans = 0;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PipelineApp.TelemetrySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _ => Interlocked.Increment(ref spans),
        };
        ActivitySource.AddActivityListener(listener);
        var output = new StringWriter();
        var options = new PipelineOptions
        {
            Model = SampleFixtures.TinyModel,
            MaxTokens = 6,
            Image = Path.Combine(SampleFixtures.Assets, "invoice_scan.jpg"),
            ExportTelemetryToConsole = true,
        };

        PipelineResult result = await PipelineApp.RunAsync(options, output);

        Assert.True(result.SecondServedFromCache, output.ToString());
        Assert.Equal(1, result.CacheHits);
        Assert.Equal(1, result.CacheMisses);
        Assert.Equal(1, result.CacheWrites);
        Assert.Equal(result.FirstAnswer, result.SecondAnswer);
        Assert.True(result.SecondDuration < result.FirstDuration, $"{result.SecondDuration} vs {result.FirstDuration}");
        Assert.Contains("Cache hit:", output.ToString(), StringComparison.Ordinal);
        Assert.True(Volatile.Read(ref spans) >= 2, $"{spans} spans");
    }
}
