using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Idefics3.SemanticKernel;

/// <summary>
/// Semantic Kernel chat completion over a local Idefics3 / SmolVLM model. It runs through Semantic Kernel's own
/// IChatClient bridge onto <see cref="Idefics3ChatClient"/>, so <c>ChatHistory</c> text and <c>ImageContent</c>
/// (bytes with a MIME type, data URI, or URI when the client allows fetching) map exactly as they do for
/// Microsoft.Extensions.AI callers. Usage is reported in each message's metadata under <c>Usage</c>.
/// Kernel functions offered with <c>FunctionChoiceBehavior.Auto()</c> or <c>Required()</c> are invoked automatically
/// (Semantic Kernel's <c>KernelFunctionInvokingChatClient</c> sits over the client, as in Semantic Kernel's own
/// connectors, with its filters and round cap); with <c>autoInvoke: false</c> the calls are returned to the caller as
/// <c>FunctionCallContent</c>; <c>None()</c> describes the functions but lets the model call none.
/// </summary>
public sealed class Idefics3ChatCompletionService : IChatCompletionService
{
    private const string ResponseFormatKey = "response_format";
    private readonly IChatCompletionService _bridge;

    /// <summary>Initializes a new instance of the <see cref="Idefics3ChatCompletionService"/> class.</summary>
    /// <param name="chatClient">An <see cref="Idefics3ChatClient"/>, possibly wrapped in middleware.</param>
    /// <param name="serviceProvider">Services for the bridge (for example a kernel's), or null.</param>
    public Idefics3ChatCompletionService(IChatClient chatClient, IServiceProvider? serviceProvider = null)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        if (chatClient.GetService<Idefics3ChatClient>() is null)
        {
            throw new ArgumentException("The chat client is not an Idefics3ChatClient (nor wraps one).", nameof(chatClient));
        }

        ChatClient = chatClient;

        // Function invocation as Semantic Kernel's own connectors build it, unless the caller's pipeline already invokes functions.
        IChatClient invoking = chatClient.GetService<FunctionInvokingChatClient>() is not null
            ? chatClient
            : chatClient.AsBuilder().UseKernelFunctionInvocation(serviceProvider?.GetService<ILoggerFactory>()).Build(serviceProvider);
        _bridge = invoking.AsChatCompletionService(serviceProvider);
    }

    /// <summary>Gets the chat client this service runs on.</summary>
    public IChatClient ChatClient { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, object?> Attributes => _bridge.Attributes;

    /// <inheritdoc />
    public Task<IReadOnlyList<ChatMessageContent>> GetChatMessageContentsAsync(
        ChatHistory chatHistory, PromptExecutionSettings? executionSettings = null, Kernel? kernel = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chatHistory);
        return GetAsync(chatHistory, executionSettings, kernel, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<StreamingChatMessageContent> GetStreamingChatMessageContentsAsync(
        ChatHistory chatHistory, PromptExecutionSettings? executionSettings = null, Kernel? kernel = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chatHistory);
        return _bridge.GetStreamingChatMessageContentsAsync(chatHistory, Normalize(executionSettings), kernel, cancellationToken);
    }

    private async Task<IReadOnlyList<ChatMessageContent>> GetAsync(
        ChatHistory chatHistory, PromptExecutionSettings? executionSettings, Kernel? kernel, CancellationToken cancellationToken)
    {
        IReadOnlyList<ChatMessageContent> messages = await _bridge.GetChatMessageContentsAsync(chatHistory, Normalize(executionSettings), kernel, cancellationToken).ConfigureAwait(false);
        if (kernel is not null)
        {
            foreach (ChatMessageContent message in messages)
            {
                KernelFunctionNames.Qualify(message.Items, kernel);
            }
        }

        return messages;
    }

    private static Idefics3PromptExecutionSettings? Normalize(PromptExecutionSettings? settings)
    {
        if (settings is null)
        {
            return null;
        }

        Idefics3PromptExecutionSettings own = Idefics3PromptExecutionSettings.FromExecutionSettings(settings);
        object? format = own.ResponseFormat;
        if (format is null && own.ExtensionData?.TryGetValue(ResponseFormatKey, out object? extra) == true)
        {
            format = extra;
        }

        if (format is null)
        {
            return own;
        }

        // Semantic Kernel's bridge reads response_format from the extension data, in a few forms only: convert to one.
        var copy = (Idefics3PromptExecutionSettings)own.Clone();
        copy.ResponseFormat = null;
        copy.ExtensionData ??= new Dictionary<string, object>();
        copy.ExtensionData[ResponseFormatKey] = ResponseFormatSetting.ToBridgeValue(format);
        return copy;
    }
}
