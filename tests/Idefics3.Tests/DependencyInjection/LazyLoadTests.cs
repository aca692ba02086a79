using Idefics3.Configuration;
using Idefics3.Tests.ChatClient;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Idefics3.Tests.DependencyInjection;

/// <summary>
/// The DI registration never blocks on the model: resolving returns at once, the first request loads (one load for
/// concurrent first requests), a failed load is retried, warm-up loads at host start, disposal ends loads without leaks.
/// </summary>
public sealed class LazyLoadTests
{
    private static readonly ChatOptions OneToken = new() { Temperature = 0, MaxOutputTokens = 1 };

    [Fact]
    public async Task Resolving_the_client_does_not_load_the_model_and_the_first_request_does()
    {
        var gate = new GatedLoader(open: true);
        using ServiceProvider provider = Build(gate);

        IChatClient client = provider.GetRequiredService<IChatClient>();

        Assert.Equal(0, gate.Loads);
        Assert.Null(client.GetService<Idefics3Engine>());
        Assert.Equal("model", client.GetService<ChatClientMetadata>()!.DefaultModelId); // known before loading
        ChatResponse response = await client.GetResponseAsync("Hi", OneToken);
        Assert.Equal(1, gate.Loads);
        Idefics3Engine engine = Assert.IsType<Idefics3Engine>(client.GetService<Idefics3Engine>());
        Assert.Equal(engine.ModelId, response.ModelId);
    }

    [Fact]
    public async Task Two_concurrent_first_requests_share_one_load()
    {
        var gate = new GatedLoader(open: false);
        using ServiceProvider provider = Build(gate);
        IChatClient client = provider.GetRequiredService<IChatClient>();

        Task<ChatResponse> first = client.GetResponseAsync("Hi", OneToken);
        Task<ChatResponse> second = client.GetResponseAsync("Hello", OneToken);
        await gate.Started.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
        gate.Open();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, gate.Loads);
        Assert.Same(gate.Engines.Single(), client.GetService<Idefics3Engine>());
    }

    [Fact]
    public async Task Cancelling_a_waiting_request_does_not_cancel_the_load_another_request_awaits()
    {
        var gate = new GatedLoader(open: false);
        using ServiceProvider provider = Build(gate);
        IChatClient client = provider.GetRequiredService<IChatClient>();
        using var cancel = new CancellationTokenSource();

        Task<ChatResponse> cancelled = client.GetResponseAsync("Hi", OneToken, cancel.Token);
        Task<ChatResponse> waiting = client.GetResponseAsync("Hello", OneToken);
        await gate.Started.WaitAsync(TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        Assert.False(gate.LoadToken.IsCancellationRequested);
        gate.Open();
        ChatResponse response = await waiting.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.NotNull(response.FinishReason);
        Assert.Equal(1, gate.Loads);
    }

    [Fact]
    public async Task A_failed_load_is_the_requests_typed_exception_and_the_next_request_loads_again()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"idefics3-lazy-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var services = new ServiceCollection();
            services.AddIdefics3ChatClient(folder, Configure);
            using ServiceProvider provider = services.BuildServiceProvider();
            IChatClient client = provider.GetRequiredService<IChatClient>(); // an empty folder: resolving still succeeds

            ConfigurationException error = await Assert.ThrowsAsync<ConfigurationException>(() => client.GetResponseAsync("Hi", OneToken));
            Assert.Contains("config.json", error.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<ConfigurationException>(() => client.GetResponseAsync("Hi", OneToken)); // tried again, failed again

            foreach (string file in Directory.GetFiles(TestFixtures.TinyModelDirectory))
            {
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            }

            ChatResponse response = await client.GetResponseAsync("Hi", OneToken);
            Assert.NotNull(response.FinishReason);
            Assert.NotNull(client.GetService<Idefics3Engine>());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Warm_up_at_host_start_loads_the_model_before_the_first_request()
    {
        var gate = new GatedLoader(open: true);
        using ServiceProvider provider = Build(gate, o => o.WarmUpOnStart = true);
        IChatClient client = provider.GetRequiredService<IChatClient>();
        Assert.Equal(0, gate.Loads);

        foreach (IHostedService hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        Assert.Equal(1, gate.Loads);
        Assert.Same(gate.Engines.Single(), client.GetService<Idefics3Engine>());
        await client.GetResponseAsync("Hi", OneToken);
        Assert.Equal(1, gate.Loads);
    }

    [Fact]
    public async Task Without_the_option_no_hosted_service_is_registered_and_WarmUpAsync_loads_on_demand()
    {
        var gate = new GatedLoader(open: true);
        using ServiceProvider provider = Build(gate);
        Assert.Empty(provider.GetServices<IHostedService>());

        Idefics3ChatClient client = provider.GetRequiredService<IChatClient>().GetService<Idefics3ChatClient>()!;
        await client.WarmUpAsync();
        await client.WarmUpAsync();

        Assert.Equal(1, gate.Loads);
        Assert.NotNull(client.GetService<Idefics3Engine>());
    }

    [Fact]
    public async Task A_warm_up_that_cannot_load_fails_the_host_start_with_the_load_error()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"idefics3-lazy-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var services = new ServiceCollection();
            services.AddIdefics3ChatClient(folder, o =>
            {
                Configure(o);
                o.WarmUpOnStart = true;
            });
            using ServiceProvider provider = services.BuildServiceProvider();

            IHostedService warmUp = Assert.Single(provider.GetServices<IHostedService>());
            await Assert.ThrowsAsync<ConfigurationException>(() => warmUp.StartAsync(CancellationToken.None));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Disposing_the_container_during_a_load_cancels_it_and_the_waiting_request_sees_ObjectDisposedException()
    {
        var gate = new GatedLoader(open: false);
        ServiceProvider provider = Build(gate);
        IChatClient client = provider.GetRequiredService<IChatClient>();
        Task<ChatResponse> request = client.GetResponseAsync("Hi", OneToken);
        await gate.Started.WaitAsync(TimeSpan.FromSeconds(30));

        provider.Dispose();

        Assert.True(gate.LoadToken.IsCancellationRequested);
        gate.Open();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => request.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Empty(gate.Engines); // the load honoured the cancellation: nothing was loaded
    }

    [Fact]
    public async Task An_engine_that_finishes_loading_after_disposal_is_disposed_not_leaked()
    {
        var gate = new GatedLoader(open: false, honourCancellation: false);
        ServiceProvider provider = Build(gate);
        Task warmUp = provider.GetRequiredService<IChatClient>().GetService<Idefics3ChatClient>()!.WarmUpAsync();
        await gate.Started.WaitAsync(TimeSpan.FromSeconds(30));

        provider.Dispose();
        gate.Open();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => warmUp.WaitAsync(TimeSpan.FromSeconds(60)));
        Idefics3Engine late = Assert.Single(gate.Engines);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => late.GenerateAsync(EngineTestConversation));
    }

    [Fact]
    public async Task Disposing_the_container_disposes_a_loaded_engine()
    {
        var gate = new GatedLoader(open: true);
        ServiceProvider provider = Build(gate);
        await provider.GetRequiredService<IChatClient>().GetResponseAsync("Hi", OneToken);

        provider.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => gate.Engines.Single().GenerateAsync(EngineTestConversation));
    }

    private static IReadOnlyList<Idefics3.Processing.PromptMessage> EngineTestConversation => [Idefics3.Processing.PromptMessage.FromText("user", "Hi")];

    private static void Configure(Idefics3ServiceOptions options)
    {
        options.Engine.Device = "cpu";
        options.Engine.DType = ModelDType.Float32;
    }

    /// <summary>A container with the tiny model registered and a registry whose loads <paramref name="loader"/> counts and gates.</summary>
    private static ServiceProvider Build(GatedLoader loader, Action<Idefics3ServiceOptions>? configure = null)
    {
        var services = new ServiceCollection();
        var logs = new CapturingLoggerProvider();
        services.AddLogging(b => b.AddProvider(logs));
        // Registered before AddIdefics3ChatClient, whose TryAddSingleton keeps it; a factory, so the container disposes it.
        services.AddSingleton(sp => new Idefics3EngineRegistry(sp.GetService<ILoggerFactory>(), loader.LoadAsync));
        services.AddIdefics3ChatClient(TestFixtures.TinyModelDirectory, o =>
        {
            Configure(o);
            configure?.Invoke(o);
        });
        return services.BuildServiceProvider();
    }

    /// <summary>Counts loads and holds each one at a gate until the test opens it; then loads the real model.</summary>
    private sealed class GatedLoader(bool open, bool honourCancellation = true)
    {
        private readonly TaskCompletionSource _gate = NewSignal(open);
        private readonly TaskCompletionSource _started = NewSignal(false);
        private int _loads;

        public int Loads => Volatile.Read(ref _loads);

        public Task Started => _started.Task;

        public CancellationToken LoadToken { get; private set; }

        public System.Collections.Concurrent.ConcurrentBag<Idefics3Engine> Engines { get; } = [];

        public void Open() => _gate.TrySetResult();

        public async Task<Idefics3Engine> LoadAsync(string model, Idefics3EngineOptions options, ILoggerFactory? loggers, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _loads);
            LoadToken = cancellationToken;
            _started.TrySetResult();
            await _gate.Task.ConfigureAwait(false);
            // A load that ignores cancellation runs on past the container's disposal, so it cannot use the container's loggers.
            Idefics3Engine engine = honourCancellation
                ? await Idefics3Engine.LoadAsync(model, options, null, loggers, cancellationToken).ConfigureAwait(false)
                : await Idefics3Engine.LoadAsync(model, options, null, null, CancellationToken.None).ConfigureAwait(false);
            Engines.Add(engine);
            return engine;
        }

        private static TaskCompletionSource NewSignal(bool set)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (set)
            {
                signal.SetResult();
            }

            return signal;
        }
    }
}
