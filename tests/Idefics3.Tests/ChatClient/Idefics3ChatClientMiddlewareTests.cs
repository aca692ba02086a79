using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Idefics3.Tests.ChatClient;

/// <summary>The client under Microsoft.Extensions.AI's middleware: logging, OpenTelemetry and distributed caching.</summary>
[Collection(ChatClientTestGroup.Name)]
public sealed class Idefics3ChatClientMiddlewareTests
{
    private readonly ChatClientFixture _fixture;

    public Idefics3ChatClientMiddlewareTests(ChatClientFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Logging_LogsCalls_NonStreaming()
    {
        using var provider = new CapturingLoggerProvider();
        using ILoggerFactory factory = provider.CreateFactory();
        IChatClient client = _fixture.Client.AsBuilder().UseLogging(factory).Build();

        await client.GetResponseAsync("What's the biggest animal?", ChatClientFixture.Greedy(2));

        var records = provider.Records.Where(r => r.Category.Contains("LoggingChatClient", StringComparison.Ordinal)).ToList();
        Assert.Contains(records, r => r.Message.Contains("GetResponseAsync", StringComparison.Ordinal) && r.Message.Contains("invoked", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Message.Contains("GetResponseAsync", StringComparison.Ordinal) && r.Message.Contains("completed", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Message.Contains("biggest animal", StringComparison.Ordinal)); // trace level carries the payload
    }

    [Fact]
    public async Task Logging_LogsCalls_Streaming()
    {
        using var provider = new CapturingLoggerProvider();
        using ILoggerFactory factory = provider.CreateFactory();
        IChatClient client = _fixture.Client.AsBuilder().UseLogging(factory).Build();

        await foreach (ChatResponseUpdate unused in client.GetStreamingResponseAsync("What's the biggest animal?", ChatClientFixture.Greedy(2)))
        {
        }

        var records = provider.Records.Where(r => r.Category.Contains("LoggingChatClient", StringComparison.Ordinal)).ToList();
        Assert.Contains(records, r => r.Message.Contains("GetStreamingResponseAsync", StringComparison.Ordinal) && r.Message.Contains("invoked", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Message.Contains("GetStreamingResponseAsync", StringComparison.Ordinal) && r.Message.Contains("completed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OpenTelemetry_CanEmitTracesAndMetrics_with_our_provider_name_model_and_token_usage()
    {
        string sourceName = "idefics3-tests-" + Guid.NewGuid().ToString("N");
        var activities = new List<Activity>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == sourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (activities)
                {
                    activities.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(activityListener);
        var measurements = new List<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == sourceName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i.Name, v, tags));
        meterListener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i.Name, v, tags));
        meterListener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i.Name, v, tags));
        meterListener.Start();
        using IChatClient client = _fixture.Client.AsBuilder().UseOpenTelemetry(sourceName: sourceName).Build();

        ChatResponse response = await client.GetResponseAsync("Hi", ChatClientFixture.Greedy(3));

        Activity activity = Assert.Single(activities);
        Assert.Equal("idefics3-torchsharp", activity.GetTagItem("gen_ai.provider.name"));
        Assert.Equal(_fixture.Engine.ModelId, activity.GetTagItem("gen_ai.request.model"));
        Assert.Equal(_fixture.Engine.ModelId, activity.GetTagItem("gen_ai.response.model"));
        // An in-process model has no server: no empty address or port -1 from a file:// provider URI.
        Assert.Null(activity.GetTagItem("server.address"));
        Assert.Null(activity.GetTagItem("server.port"));
        Assert.Equal(response.Usage!.InputTokenCount, Convert.ToInt64(activity.GetTagItem("gen_ai.usage.input_tokens"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(3L, Convert.ToInt64(activity.GetTagItem("gen_ai.usage.output_tokens"), System.Globalization.CultureInfo.InvariantCulture));
        lock (measurements)
        {
            var usage = measurements.Where(m => m.Instrument == "gen_ai.client.token.usage").ToList();
            Assert.Contains(usage, m => m.Value == 3 && Equals(m.Tags["gen_ai.token.type"], "output"));
            Assert.Contains(usage, m => m.Value == response.Usage.InputTokenCount && Equals(m.Tags["gen_ai.token.type"], "input"));
            Assert.Contains(measurements, m => m.Instrument == "gen_ai.client.operation.duration");
        }

        void Record(string instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var dict = new Dictionary<string, object?>();
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                dict[tag.Key] = tag.Value;
            }

            lock (measurements)
            {
                measurements.Add((instrument, value, dict));
            }
        }
    }

    [Fact]
    public async Task Caching_OutputVariesWithoutCaching_when_sampling_with_different_seeds()
    {
        ChatResponse a = await _fixture.Client.GetResponseAsync("Tell me a joke.", new ChatOptions { Temperature = 1.5f, Seed = 1, MaxOutputTokens = 8 });
        ChatResponse b = await _fixture.Client.GetResponseAsync("Tell me a joke.", new ChatOptions { Temperature = 1.5f, Seed = 2, MaxOutputTokens = 8 });

        Assert.NotEqual(ChatClientFixture.Raw(a).OutputIds, ChatClientFixture.Raw(b).OutputIds);
    }

    [Fact]
    public async Task Caching_SamePromptResultsInCacheHit_NonStreaming_without_reaching_the_engine()
    {
        var counter = new CountingChatClient(_fixture.Client);
        using IChatClient client = counter.AsBuilder().UseDistributedCache(NewCache()).Build();
        var options = new ChatOptions { Temperature = 1.5f, MaxOutputTokens = 8 }; // no seed: only the cache can repeat it

        ChatResponse first = await client.GetResponseAsync("Tell me a joke.", options);
        ChatResponse second = await client.GetResponseAsync("Tell me a joke.", options);

        Assert.Equal(1, counter.Calls);
        Assert.Equal(first.Text, second.Text);
        Assert.Equal(first.ResponseId, second.ResponseId);
        Assert.Equal(first.Usage!.TotalTokenCount, second.Usage!.TotalTokenCount);

        await client.GetResponseAsync("Another prompt.", options);
        Assert.Equal(2, counter.Calls);
    }

    [Fact]
    public async Task Caching_SamePromptResultsInCacheHit_Streaming_without_reaching_the_engine()
    {
        var counter = new CountingChatClient(_fixture.Client);
        using IChatClient client = counter.AsBuilder().UseDistributedCache(NewCache()).Build();
        var options = new ChatOptions { Temperature = 1.5f, MaxOutputTokens = 8 };

        string first = await StreamText(client, options);
        string second = await StreamText(client, options);

        Assert.Equal(1, counter.Calls);
        Assert.Equal(first, second);

        static async Task<string> StreamText(IChatClient client, ChatOptions options)
        {
            var updates = new List<ChatResponseUpdate>();
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync("Tell me a joke.", options))
            {
                updates.Add(update);
            }

            Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
            return updates.ToChatResponse().Text;
        }
    }

    private static MemoryDistributedCache NewCache() => new(Options.Create(new MemoryDistributedCacheOptions()));
}
