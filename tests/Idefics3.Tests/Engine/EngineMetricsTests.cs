using System.Diagnostics.Metrics;
using Idefics3.Generation;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Idefics3.Tests.Engine;

/// <summary>The "Idefics3" meter: what one request reports, per engine, through a meter factory or the shared meter.</summary>
public sealed class EngineMetricsTests
{
    [Fact]
    public async Task A_request_reports_itself_its_tokens_and_one_active_decode_tagged_with_the_model()
    {
        using var metrics = new MetricsProbe();
        await using Idefics3Engine engine = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, MeterFactory = metrics });

        GenerationResult result = await engine.GenerateAsync(EngineFixture.SingleImageConversation(), new GenerationOptions { MaxNewTokens = 3 });

        Assert.Equal(1, metrics.Sum("idefics3.requests"));
        Assert.Equal(1, metrics.Sum("idefics3.prompts.prepared"));
        Assert.Equal(result.Usage.InputTokens, metrics.Sum("idefics3.tokens", "input"));
        Assert.Equal(result.Usage.OutputTokens, metrics.Sum("idefics3.tokens", "output"));
        Assert.Equal(1, metrics.Peak("idefics3.decodes.active"));
        Assert.Equal(0, metrics.Sum("idefics3.decodes.active"));
        Assert.Equal(1, metrics.Sum("idefics3.vision.encodes"));
        Assert.Equal(0, metrics.Sum("idefics3.vision.cache_hits"));
        Assert.Equal(1, metrics.Sum("idefics3.models.loaded"));
        Assert.Equal([engine.ModelId], metrics.Models);
    }

    [Fact]
    public async Task Each_engine_reports_to_its_own_meter_factory()
    {
        using var first = new MetricsProbe();
        using var second = new MetricsProbe();
        await using Idefics3Engine one = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, MeterFactory = first });
        await using Idefics3Engine other = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, MeterFactory = second });

        await one.GenerateAsync(EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = 1 });

        Assert.Equal(1, first.Sum("idefics3.requests"));
        Assert.Equal(0, second.Sum("idefics3.requests"));
    }

    [Fact]
    public async Task Without_a_factory_the_engine_reports_on_the_shared_Idefics3_meter()
    {
        string modelId = $"shared-meter-{Guid.NewGuid():N}"; // other tests' engines report here too: count this one's
        long requests = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Idefics3Engine.MeterName && instrument.Meter.Scope is null && instrument.Name == "idefics3.requests")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "idefics3.model" && Equals(tag.Value, modelId))
                {
                    Interlocked.Add(ref requests, value);
                }
            }
        });
        listener.Start();
        await using Idefics3Engine engine = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, ModelId = modelId });

        await engine.GenerateAsync(EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = 1 });
        await engine.GenerateAsync(EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = 1 });

        Assert.Equal(2, Interlocked.Read(ref requests));
    }

    [Fact]
    public async Task A_DI_registration_reports_through_the_containers_meter_factory()
    {
        using var metrics = new MetricsProbe();
        var services = new ServiceCollection();
        services.AddSingleton<IMeterFactory>(metrics);
        services.AddIdefics3ChatClient(TestFixtures.TinyModelDirectory, o => o.Engine.DType = ModelDType.Float32);
        using ServiceProvider provider = services.BuildServiceProvider();

        await provider.GetRequiredService<IChatClient>().GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 1 });

        Assert.Equal(1, metrics.Sum("idefics3.requests"));
        Assert.Equal(["model"], metrics.Models);
    }
}
