using System.Runtime.CompilerServices;
using Idefics3.ChatClient;
using Idefics3.Generation;
using Idefics3.Processing;
using Idefics3.Tokenization;
using Idefics3.ToolCalling;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Idefics3;

/// <summary>
/// A Microsoft.Extensions.AI <see cref="IChatClient"/> over a local Idefics3 / SmolVLM model. Messages are mapped in
/// order: text as text, image <see cref="DataContent"/> (bytes or data URI) and, when allowed, image
/// <see cref="UriContent"/> exactly where they sit. Safe to use from many threads at once; requests queue in the engine.
/// Responses carry ids, the model id, the finish reason and usage (image tokens and reused cached tokens included).
/// </summary>
public sealed class Idefics3ChatClient : IChatClient
{
    /// <summary>The provider name reported in <see cref="ChatClientMetadata"/>.</summary>
    public const string ProviderName = "idefics3-torchsharp";

    private readonly EngineSource _engine;
    private readonly bool _ownsEngine;
    private readonly string _modelId;
    private readonly Idefics3ChatClientOptions _options;
    private readonly ChatRequestMapper _mapper;
    private readonly UriImageReader _uriReader;
    private readonly ChatClientMetadata _metadata;

    /// <summary>Initializes a new instance of the <see cref="Idefics3ChatClient"/> class over a loaded engine.</summary>
    /// <param name="engine">The loaded model.</param>
    /// <param name="options">How message content is mapped; validated here. The client keeps a private copy.</param>
    /// <param name="loggerFactory">Creates the client's logger.</param>
    /// <param name="ownsEngine">Whether disposing the client disposes the engine.</param>
    public Idefics3ChatClient(Idefics3Engine engine, Idefics3ChatClientOptions? options = null, ILoggerFactory? loggerFactory = null, bool ownsEngine = false)
        : this(EngineSource.Loaded(engine ?? throw new ArgumentNullException(nameof(engine))), engine.ModelId, options, loggerFactory)
    {
        _ownsEngine = ownsEngine;
    }

    /// <summary>A client whose engine may still be loading (dependency injection); <paramref name="modelId"/> is the engine's, known before it loads.</summary>
    internal Idefics3ChatClient(EngineSource engine, string modelId, Idefics3ChatClientOptions? options, ILoggerFactory? loggerFactory)
    {
        _options = (options ?? new Idefics3ChatClientOptions()).Clone();
        _options.Validate();
        _engine = engine;
        _modelId = modelId;
        _uriReader = new UriImageReader(_options);
        _mapper = new ChatRequestMapper(_options, _uriReader, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Idefics3ChatClient>());
        // No provider URI: the model runs in-process. A file:// URI would make telemetry middleware report a meaningless
        // server.address ("") and server.port (-1) on every span and metric.
        _metadata = new ChatClientMetadata(ProviderName, providerUri: null, ModelId);
    }

    /// <summary>Gets the model id reported in responses (known before the model loads).</summary>
    public string ModelId => _options.ModelId ?? _modelId;

    /// <summary>
    /// Loads the model now if it is not loaded yet, so the first request does not wait for it. A client built over a
    /// loaded engine returns at once; a client registered with <c>AddIdefics3ChatClient</c> loads lazily, and this
    /// method is the explicit warm-up (concurrent callers and requests share one load). Afterwards
    /// <see cref="GetService"/> returns the <see cref="Idefics3Engine"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels this wait only; a load that other requests await keeps running.</param>
    /// <returns>A task that completes when the model is loaded.</returns>
    /// <exception cref="ObjectDisposedException">The container that owns the model was disposed.</exception>
    /// <remarks>Load errors are those of <see cref="Idefics3Engine.LoadAsync"/>; a failed load is retried by the next call or request.</remarks>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default) =>
        _ = await _engine.GetAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        MappedRequest request = await _mapper.MapAsync(this, messages, options, ModelId, cancellationToken).ConfigureAwait(false);
        DateTimeOffset created = DateTimeOffset.UtcNow;
        Idefics3Engine engine = await _engine.GetAsync(cancellationToken).ConfigureAwait(false);
        GenerationResult result = await engine.GenerateAsync(request.Conversation, request.Generation, request.Processing, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        // The engine's result (prompt and output token ids included) is the raw representation, as MEAI clients do with
        // their provider's response; Semantic Kernel surfaces it as InnerContent. With tools, call envelopes in the text
        // become FunctionCallContent.
        List<AIContent> contents = request.Tools is null ? [new TextContent(result.Text)] : ToolCallAssembler.ParseAll(result.Text);
        bool calls = contents.Any(c => c is FunctionCallContent);
        var message = new ChatMessage(ChatRole.Assistant, contents)
        {
            MessageId = NewId("msg"),
            CreatedAt = created,
            RawRepresentation = result,
            AdditionalProperties = Extras(result.Timings, result.LogProbs, result.Seed, result.StopSequence, result.ConstraintSatisfied),
        };
        var response = new ChatResponse(message)
        {
            ResponseId = NewId("resp"),
            ModelId = ModelId,
            CreatedAt = created,
            FinishReason = MapFinish(result.FinishReason, calls),
            Usage = MapUsage(result.Usage),
            RawRepresentation = result,
            AdditionalProperties = Extras(result.Timings, result.LogProbs, result.Seed, result.StopSequence, result.ConstraintSatisfied),
        };
        return response;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        MappedRequest request = await _mapper.MapAsync(this, messages, options, ModelId, cancellationToken).ConfigureAwait(false);
        string responseId = NewId("resp");
        string messageId = NewId("msg");
        DateTimeOffset created = DateTimeOffset.UtcNow;
        var logProbs = new List<TokenLogProb>();
        ToolCallAssembler? assembler = request.Tools is null ? null : new ToolCallAssembler();
        Idefics3Engine engine = await _engine.GetAsync(cancellationToken).ConfigureAwait(false);
        await foreach (GenerationUpdate update in engine.GenerateStreamingAsync(request.Conversation, request.Generation, request.Processing, cancellationToken).ConfigureAwait(false))
        {
            if (update.LogProbs is not null)
            {
                logProbs.AddRange(update.LogProbs);
            }

            var contents = new List<AIContent>();
            if (assembler is not null)
            {
                contents.AddRange(assembler.Append(update.Text));
            }
            else if (update.Text.Length > 0)
            {
                contents.Add(new TextContent(update.Text));
            }

            if (update.FinishReason is FinishReason finish)
            {
                if (assembler is not null)
                {
                    contents.AddRange(assembler.Flush());
                }

                cancellationToken.ThrowIfCancellationRequested();
                UsageDetails usage = MapUsage(update.Usage!);
                contents.Add(new UsageContent(usage));
                AdditionalPropertiesDictionary extras = Extras(update.Timings!, request.Generation.LogProbs ? logProbs : null, update.Seed ?? 0, update.StopSequence, update.ConstraintSatisfied);
                yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
                {
                    ResponseId = responseId,
                    MessageId = messageId,
                    ModelId = ModelId,
                    CreatedAt = created,
                    FinishReason = MapFinish(finish, assembler?.CallCount > 0),
                    RawRepresentation = update,
                    AdditionalProperties = extras,
                };
                yield break;
            }

            if (contents.Count > 0)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
                {
                    ResponseId = responseId,
                    MessageId = messageId,
                    ModelId = ModelId,
                    CreatedAt = created,
                };
            }
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        // The engine and its parts once loaded (a lazily loaded model is not loaded by asking: see WarmUpAsync).
        if (serviceType == typeof(Idefics3Engine))
        {
            return _engine.Current;
        }

        if (serviceType == typeof(Idefics3Processor))
        {
            return _engine.Current?.Processor;
        }

        if (serviceType == typeof(HuggingFaceTokenizer))
        {
            return _engine.Current?.Tokenizer;
        }

        if (serviceType == typeof(Idefics3ChatClientOptions))
        {
            return _options.Clone();
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _uriReader.Dispose();
        if (_ownsEngine)
        {
            _engine.Current?.Dispose();
        }
    }

    private static ChatFinishReason MapFinish(FinishReason finish, bool toolCalls) => finish switch
    {
        FinishReason.Length => ChatFinishReason.Length,
        _ when toolCalls => ChatFinishReason.ToolCalls,
        _ => ChatFinishReason.Stop,
    };

    private static UsageDetails MapUsage(GenerationUsage usage) => new()
    {
        InputTokenCount = usage.InputTokens,
        OutputTokenCount = usage.OutputTokens,
        TotalTokenCount = usage.TotalTokens,
        CachedInputTokenCount = usage.CachedTokens,
        AdditionalCounts = new AdditionalPropertiesDictionary<long>
        {
            ["image_tokens"] = usage.ImageTokens,
            ["cached_tokens"] = usage.CachedTokens,
        },
    };

    private static AdditionalPropertiesDictionary Extras(GenerationTimings timings, IReadOnlyList<TokenLogProb>? logProbs, long seed, string? stopSequence, bool? constraintSatisfied)
    {
        var extras = new AdditionalPropertiesDictionary
        {
            ["timings"] = timings,
            ["seed"] = seed,
        };
        if (logProbs is not null)
        {
            extras["logprobs"] = logProbs;
        }

        if (stopSequence is not null)
        {
            extras["stop_sequence"] = stopSequence;
        }

        if (constraintSatisfied is bool complete)
        {
            // Structured output: false when the token budget ran out before the JSON document was complete.
            extras["json_complete"] = complete;
        }

        return extras;
    }

    private static string NewId(string prefix) => $"{prefix}_{Guid.NewGuid():N}";
}
