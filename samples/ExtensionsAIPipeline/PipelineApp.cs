using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Idefics3.Samples.ExtensionsAIPipeline;

/// <summary>What the pipeline sample loads and asks.</summary>
public sealed class PipelineOptions
{
    public string Model { get; set; } = PipelineApp.DefaultModel;

    public string Device { get; set; } = "auto";

    public string Image { get; set; } = Path.Combine(AppContext.BaseDirectory, "assets", "invoice_scan.jpg");

    public string Question { get; set; } = "What is the total amount due on this invoice?";

    public int MaxTokens { get; set; } = 120;

    /// <summary>Gets or sets a value indicating whether spans and metrics are printed by the OpenTelemetry console exporter.</summary>
    public bool ExportTelemetryToConsole { get; set; } = true;

    /// <summary>Gets or sets the level of the console log (the LoggingChatClient logs at Debug, message contents at Trace).</summary>
    public LogLevel LogLevel { get; set; } = LogLevel.Debug;
}

/// <summary>The two timings and what the cache saw.</summary>
public sealed record PipelineResult(
    TimeSpan FirstDuration, TimeSpan SecondDuration, string FirstAnswer, string SecondAnswer, bool SameResponseId, int CacheHits, int CacheMisses, int CacheWrites)
{
    public bool SecondServedFromCache => SameResponseId && CacheHits >= 1;
}

/// <summary>
/// A generic host with dependency injection: <c>AddIdefics3ChatClient(...)</c> returns a <see cref="ChatClientBuilder"/>
/// whose pipeline logs, traces (OpenTelemetry spans and metrics, exported to the console) and caches responses in an
/// <see cref="IDistributedCache"/>. The same request is sent twice; the second is answered by the cache.
/// </summary>
public static class PipelineApp
{
    public const string DefaultModel = "HuggingFaceTB/SmolVLM-256M-Instruct";

    /// <summary>The ActivitySource and Meter name of the chat client's OpenTelemetry middleware.</summary>
    public const string TelemetrySourceName = "Idefics3.Samples.Pipeline";

    public static IHost BuildHost(PipelineOptions options)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.Extensions.AI", options.LogLevel);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);

        // The cache the middleware uses: in memory here (a real app would register Redis or SQL Server), wrapped to count hits.
        builder.Services.AddSingleton(_ => new CountingDistributedCache(
            new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()))));
        builder.Services.AddSingleton<IDistributedCache>(sp => sp.GetRequiredService<CountingDistributedCache>());

        // The chat pipeline: logging (outermost), then OpenTelemetry, then the cache, then the model.
        builder.Services.AddIdefics3ChatClient(options.Model, o => o.Engine.Device = options.Device)
            .UseLogging()
            .UseOpenTelemetry(sourceName: TelemetrySourceName, configure: otel => otel.EnableSensitiveData = false)
            .UseDistributedCache();

        if (options.ExportTelemetryToConsole)
        {
            builder.Services.AddOpenTelemetry()
                .ConfigureResource(r => r.AddService("Idefics3.Samples.ExtensionsAIPipeline"))
                .WithTracing(t => t.AddSource(TelemetrySourceName).AddConsoleExporter())
                .WithMetrics(m => m.AddMeter(TelemetrySourceName).AddConsoleExporter());
        }

        return builder.Build();
    }

    public static async Task<PipelineResult> RunAsync(PipelineOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        using IHost host = BuildHost(options);
        await host.StartAsync(cancellationToken);
        try
        {
            output.WriteLine($"Loading {options.Model} ...");
            var load = Stopwatch.StartNew();
            IChatClient client = host.Services.GetRequiredService<IChatClient>(); // the model loads here, once
            output.WriteLine($"Loaded in {load.Elapsed.TotalSeconds:F1} s.");
            CountingDistributedCache cache = host.Services.GetRequiredService<CountingDistributedCache>();

            DataContent image = await DataContent.LoadFromAsync(options.Image, cancellationToken: cancellationToken);
            ChatMessage[] request = [new(ChatRole.User, [image, new TextContent(options.Question)])];
            var chatOptions = new ChatOptions { MaxOutputTokens = options.MaxTokens, Temperature = 0 };
            output.WriteLine($"User: [{Path.GetFileName(options.Image)}] {options.Question}");

            (ChatResponse first, TimeSpan firstTime) = await TimeAsync(client, request, chatOptions, cancellationToken);
            output.WriteLine($"Assistant: {first.Text}");
            output.WriteLine($"First request:  {firstTime.TotalMilliseconds,9:F1} ms (cache hits {cache.Hits}, misses {cache.Misses}, writes {cache.Writes}: the model ran)");

            (ChatResponse second, TimeSpan secondTime) = await TimeAsync(client, request, chatOptions, cancellationToken);
            bool sameId = first.ResponseId is not null && first.ResponseId == second.ResponseId;
            output.WriteLine($"Second request: {secondTime.TotalMilliseconds,9:F1} ms (cache hits {cache.Hits}, misses {cache.Misses}, writes {cache.Writes})");
            var result = new PipelineResult(firstTime, secondTime, first.Text, second.Text, sameId, cache.Hits, cache.Misses, cache.Writes);
            output.WriteLine(result.SecondServedFromCache
                ? $"Cache hit: the repeated request was served from the distributed cache (same response id {second.ResponseId}), {firstTime.TotalMilliseconds / Math.Max(secondTime.TotalMilliseconds, 0.001):F0}x faster."
                : "Cache miss: the repeated request reached the model again.");
            return result;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<(ChatResponse Response, TimeSpan Elapsed)> TimeAsync(
        IChatClient client, IEnumerable<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        ChatResponse response = await client.GetResponseAsync(messages, options, cancellationToken);
        return (response, watch.Elapsed);
    }
}
