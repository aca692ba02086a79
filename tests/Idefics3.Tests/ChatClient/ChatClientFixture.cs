using System.Collections.Concurrent;
using Idefics3.Processing;
using Idefics3.Tests.Engine;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Idefics3.Tests.ChatClient;

/// <summary>The tiny random model (float32) and a chat client over it, loaded once for every chat client test class.</summary>
public sealed class ChatClientFixture : IAsyncLifetime
{
    public Idefics3Engine Engine { get; private set; } = null!;

    public Idefics3ChatClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Engine = await EngineFixture.LoadAsync();
        Client = new Idefics3ChatClient(Engine);
    }

    public Task DisposeAsync()
    {
        Client.Dispose();
        Engine.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A client over the shared engine with other options (disposing it leaves the engine loaded).</summary>
    public Idefics3ChatClient NewClient(Idefics3ChatClientOptions options, ILoggerFactory? loggerFactory = null) =>
        new(Engine, options, loggerFactory);

    /// <summary>The prompt token ids the processor renders for <paramref name="conversation"/>, the reference every mapping test compares with.</summary>
    public IReadOnlyList<int> ExpectedInputIds(IReadOnlyList<PromptMessage> conversation, ProcessorOptions? processing = null) =>
        Engine.Processor.Process(conversation, processing).InputIds;

    public static byte[] ImageA => EngineFixture.Image("golden_A_56x56.png");

    public static byte[] ImageB => EngineFixture.Image("golden_B_64x48.png");

    public static byte[] ImageC => EngineFixture.Image("golden_C_120x100.png");

    public static DataContent Png(byte[] bytes) => new(bytes, "image/png");

    public static PromptImage PromptPng(byte[] bytes) => new(bytes, "image/png");

    /// <summary>The engine result behind a response (its raw representation).</summary>
    public static GenerationResult Raw(ChatResponse response) => Assert.IsType<GenerationResult>(response.RawRepresentation);

    public static ChatOptions Greedy(int maxTokens = 6) => new() { Temperature = 0, MaxOutputTokens = maxTokens };
}

[CollectionDefinition(Name)]
public sealed class ChatClientTestGroup : ICollectionFixture<ChatClientFixture>
{
    public const string Name = "Idefics3 chat client";
}

/// <summary>Collects every log record written through the loggers it creates.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, EventId EventId, string Message)> Records { get; } = new();

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void Dispose()
    {
    }

    public ILoggerFactory CreateFactory() => LoggerFactory.Create(b => b.AddProvider(this).SetMinimumLevel(LogLevel.Trace));

    private sealed class CapturingLogger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Records.Enqueue((category, logLevel, eventId, formatter(state, exception)));
    }
}

/// <summary>Counts the requests that reach the client under it.</summary>
public sealed class CountingChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        return base.GetResponseAsync(messages, options, cancellationToken);
    }

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        return base.GetStreamingResponseAsync(messages, options, cancellationToken);
    }
}
