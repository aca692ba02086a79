using System.Collections.Concurrent;
using Idefics3.Generation;
using Idefics3.Imaging;
using Idefics3.Processing;
using Idefics3.StructuredOutput;
using Idefics3.ToolCalling;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Idefics3.ChatClient;

/// <summary>A chat request mapped to the engine's inputs.</summary>
/// <param name="Conversation">The prompt's messages.</param>
/// <param name="Generation">Sampling and length options.</param>
/// <param name="Processing">Image processing options.</param>
/// <param name="Tools">The tools the model may call, or null when the request offers none (or its tool mode is None).</param>
internal sealed record MappedRequest(IReadOnlyList<PromptMessage> Conversation, GenerationOptions Generation, ProcessorOptions Processing, ToolSet? Tools = null);

/// <summary>
/// The one prompt builder of both chat surfaces (Semantic Kernel reaches it through its IChatClient bridge): maps
/// Microsoft.Extensions.AI messages and options to the engine's conversation and options. Every content item is either
/// mapped, in order, or handled by <see cref="Idefics3ChatClientOptions.UnsupportedContent"/>; nothing is dropped
/// silently. The caller's objects are never modified.
/// </summary>
internal sealed partial class ChatRequestMapper
{
    /// <summary>Additional-property keys this client understands (snake_case, as Semantic Kernel sends them).</summary>
    public static readonly IReadOnlySet<string> KnownAdditionalProperties = new HashSet<string>(StringComparer.Ordinal)
    {
        RepetitionPenaltyKey, MinPKey, DoImageSplittingKey, LongestEdgeKey, LogProbsKey, TopLogProbsKey, AlphaHandlingKey, ChatSystemPromptKey,
    };

    private const string RepetitionPenaltyKey = "repetition_penalty";
    private const string MinPKey = "min_p";
    private const string DoImageSplittingKey = "do_image_splitting";
    private const string LongestEdgeKey = "longest_edge";
    private const string LogProbsKey = "logprobs";
    private const string TopLogProbsKey = "top_logprobs";
    private const string AlphaHandlingKey = "alpha_handling";

    // Semantic Kernel's ChatSystemPrompt setting: a system message used when the history has none.
    private const string ChatSystemPromptKey = "chat_system_prompt";

    private readonly Idefics3ChatClientOptions _options;
    private readonly UriImageReader _uriReader;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, bool> _warnedKeys = new(StringComparer.Ordinal);

    public ChatRequestMapper(Idefics3ChatClientOptions options, UriImageReader uriReader, ILogger logger)
    {
        _options = options;
        _uriReader = uriReader;
        _logger = logger;
    }

    public async Task<MappedRequest> MapAsync(IChatClient client, IEnumerable<ChatMessage> messages, ChatOptions? options, string modelId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        CheckOptions(options, modelId);
        ToolSet? tools = ToolSet.FromOptions(options);

        var conversation = new List<PromptMessage>();
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (ChatMessage message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            string? role = MapRole(message.Role);
            if (role is null)
            {
                Unsupported($"a message with role '{message.Role}'", "only system, user, assistant and tool messages reach the model");
                continue;
            }

            var contents = new List<PromptContent>(message.Contents.Count);
            Type? previous = null;
            foreach (AIContent content in message.Contents)
            {
                switch (content)
                {
                    case FunctionCallContent call:
                        // Earlier calls are replayed as the assistant's envelope text, one per line.
                        callNames[call.CallId] = call.Name;
                        contents.Add(new PromptText((previous == typeof(FunctionCallContent) ? ToolCallProtocol.CallSeparator : string.Empty) + ToolHistory.CallText(call)));
                        break;
                    case FunctionResultContent result:
                        await MapToolResultAsync(result, role, callNames, previous == typeof(FunctionResultContent), contents, cancellationToken).ConfigureAwait(false);
                        break;
                    default:
                        PromptContent? mapped = await MapContentAsync(content, role, cancellationToken).ConfigureAwait(false);
                        if (mapped is not null)
                        {
                            contents.Add(mapped);
                        }

                        break;
                }

                previous = content.GetType();
            }

            // A message with nothing the model can read is left out (the chat template needs content to render a turn).
            if (contents.Count > 0)
            {
                conversation.Add(new PromptMessage(role, contents));
            }
        }

        if (AdditionalPropertyReader.GetString(options?.AdditionalProperties, ChatSystemPromptKey) is { Length: > 0 } systemPrompt &&
            !conversation.Any(m => m.Role == "system"))
        {
            // Semantic Kernel's semantics: the setting's prompt is used only when the history brings no system message.
            conversation.Insert(0, PromptMessage.FromText("system", systemPrompt));
        }

        if (tools is not null)
        {
            AppendSystemText(conversation, ToolPrompt.Build(tools));
        }

        if (!string.IsNullOrEmpty(options?.Instructions))
        {
            // ChatOptions.Instructions are system instructions: merged into a leading system message, or one is added.
            if (conversation.Count > 0 && conversation[0].Role == "system")
            {
                IReadOnlyList<PromptContent> existing = conversation[0].Contents;
                conversation[0] = conversation[0] with
                {
                    Contents = existing.Count == 0
                        ? [new PromptText(options.Instructions)]
                        : [new PromptText(options.Instructions + "\n\n"), .. existing],
                };
            }
            else
            {
                conversation.Insert(0, PromptMessage.FromText("system", options.Instructions));
            }
        }

        if (conversation.Count == 0)
        {
            throw new ArgumentException("The request has no message with content the model can read.", nameof(messages));
        }

        GenerationOptions generation = MapGeneration(client, options) with { Tools = tools };
        if (generation.ResponseFormat is { } format)
        {
            // The model cannot see the grammar: the format is also shown to it, as a system instruction.
            SchemaInstruction.AddTo(conversation, format);
        }

        return new MappedRequest(conversation, generation, MapProcessing(options), tools);
    }

    /// <summary>Appends <paramref name="text"/> to the leading system message, or adds one.</summary>
    private static void AppendSystemText(List<PromptMessage> conversation, string text)
    {
        if (conversation.Count > 0 && conversation[0].Role == "system")
        {
            IReadOnlyList<PromptContent> existing = conversation[0].Contents;
            conversation[0] = conversation[0] with { Contents = existing.Count == 0 ? [new PromptText(text)] : [.. existing, new PromptText("\n\n" + text)] };
        }
        else
        {
            conversation.Insert(0, PromptMessage.FromText("system", text));
        }
    }

    /// <summary>A tool result as the protocol's result block in a user turn: text and JSON verbatim, images as images.</summary>
    private async Task MapToolResultAsync(
        FunctionResultContent result, string role, Dictionary<string, string> callNames, bool afterResult, List<PromptContent> contents, CancellationToken cancellationToken)
    {
        if (!callNames.TryGetValue(result.CallId, out string? name))
        {
            throw new ArgumentException(
                $"A FunctionResultContent has call id '{result.CallId}', which matches no FunctionCallContent earlier in the conversation; " +
                "send the assistant message with the call before its result.",
                nameof(result));
        }

        contents.Add(new PromptText((afterResult ? ToolCallProtocol.ResponseSeparator : string.Empty) + ToolCallProtocol.ResponseOpen(name)));
        foreach (object part in ToolHistory.ResultParts(result))
        {
            PromptContent? mapped = part is AIContent content
                ? await MapContentAsync(content, role, cancellationToken).ConfigureAwait(false)
                : new PromptText((string)part);
            if (mapped is not null)
            {
                contents.Add(mapped);
            }
        }

        contents.Add(new PromptText(ToolCallProtocol.ResponseClose));
    }

    /// <summary>Maps MEAI's response format: JSON with or without a schema; text (or none) keeps the engine options' format.</summary>
    private static JsonResponseFormat? MapResponseFormat(ChatResponseFormat? format, JsonResponseFormat? fallback) => format switch
    {
        ChatResponseFormatJson { Schema: { } schema } json => JsonResponseFormat.ForSchema(schema, json.SchemaName, json.SchemaDescription),
        ChatResponseFormatJson => JsonResponseFormat.AnyObject,
        _ => fallback,
    };

    private static string? MapRole(ChatRole role)
    {
        if (role == ChatRole.System)
        {
            return "system";
        }

        if (role == ChatRole.User)
        {
            return "user";
        }

        if (role == ChatRole.Assistant)
        {
            return "assistant";
        }

        // Tool results come back as a user turn: the template capitalises any role, and "Tool:" is a word the model never saw.
        return role == ChatRole.Tool ? "user" : null;
    }

    private async Task<PromptContent?> MapContentAsync(AIContent content, string role, CancellationToken cancellationToken)
    {
        switch (content)
        {
            case TextContent text:
                return new PromptText(text.Text ?? string.Empty);

            case DataContent data when data.HasTopLevelMediaType("image"):
                return new PromptImage(data.Data, data.MediaType);

            case DataContent data:
                Unsupported($"{data.MediaType} data in a {role} message", "this model reads text and images only");
                return null;

            case UriContent uri when uri.HasTopLevelMediaType("image") || uri.MediaType == "image/*":
                byte[] bytes = await _uriReader.ReadAsync(uri.Uri, cancellationToken).ConfigureAwait(false);
                return new PromptImage(bytes, uri.MediaType == "image/*" ? null : uri.MediaType);

            case UriContent uri:
                Unsupported($"a {uri.MediaType} URI ({uri.Uri}) in a {role} message", "this model reads text and images only");
                return null;

            case UsageContent:
                // Usage reported by an earlier response is bookkeeping, not something the model reads.
                return null;

            default:
                Unsupported($"{content.GetType().Name} in a {role} message", "this model reads text and images only");
                return null;
        }
    }

    private static void CheckOptions(ChatOptions? options, string modelId)
    {
        if (options is null)
        {
            return;
        }

        if (options.ModelId is { Length: > 0 } requested && !string.Equals(requested, modelId, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"ChatOptions.ModelId is '{requested}', but this client serves '{modelId}'.", nameof(options));
        }

        if (!string.IsNullOrEmpty(options.ConversationId))
        {
            throw new NotSupportedException(
                "ChatOptions.ConversationId is not supported: this client keeps no server-side conversations. Send the whole history; " +
                "repeated prefixes are served from its KV cache.");
        }

        if (options.AllowBackgroundResponses == true || options.ContinuationToken is not null)
        {
            throw new NotSupportedException("Background responses and continuation tokens are not supported by this client.");
        }

        if (options.Reasoning is not null)
        {
            throw new NotSupportedException("Reasoning options are not supported: this model has no separate reasoning mode.");
        }
    }

    private GenerationOptions MapGeneration(IChatClient client, ChatOptions? options)
    {
        // A caller may hand over complete engine options through RawRepresentationFactory; ChatOptions values override them.
        GenerationOptions generation = options?.RawRepresentationFactory?.Invoke(client) as GenerationOptions ?? GenerationOptions.Default;
        if (options is null)
        {
            return generation;
        }

        AdditionalPropertiesDictionary? extra = options.AdditionalProperties;
        foreach (KeyValuePair<string, object?> entry in extra ?? [])
        {
            // Null values carry no request (Semantic Kernel's settings round trip sends unset settings as nulls).
            if (entry.Value is not null && !KnownAdditionalProperties.Contains(entry.Key) && _warnedKeys.TryAdd(entry.Key, true))
            {
                LogUnknownProperty(_logger, entry.Key, string.Join(", ", KnownAdditionalProperties));
            }
        }

        int? topLogProbs = AdditionalPropertyReader.GetInt32(extra, TopLogProbsKey);
        return generation with
        {
            Temperature = options.Temperature ?? generation.Temperature,
            TopP = options.TopP ?? generation.TopP,
            TopK = options.TopK ?? generation.TopK,
            MaxNewTokens = options.MaxOutputTokens ?? generation.MaxNewTokens,
            Seed = options.Seed ?? generation.Seed,
            FrequencyPenalty = options.FrequencyPenalty ?? generation.FrequencyPenalty,
            PresencePenalty = options.PresencePenalty ?? generation.PresencePenalty,
            StopSequences = options.StopSequences is { Count: > 0 } stops ? [.. stops] : generation.StopSequences,
            RepetitionPenalty = (float?)AdditionalPropertyReader.GetDouble(extra, RepetitionPenaltyKey) ?? generation.RepetitionPenalty,
            MinP = (float?)AdditionalPropertyReader.GetDouble(extra, MinPKey) ?? generation.MinP,
            LogProbs = AdditionalPropertyReader.GetBoolean(extra, LogProbsKey) ?? (topLogProbs > 0 || generation.LogProbs),
            TopLogProbs = topLogProbs ?? generation.TopLogProbs,
            ResponseFormat = MapResponseFormat(options.ResponseFormat, generation.ResponseFormat),
        };
    }

    private static ProcessorOptions MapProcessing(ChatOptions? options)
    {
        AdditionalPropertiesDictionary? extra = options?.AdditionalProperties;
        var processing = new ProcessorOptions();
        bool? split = AdditionalPropertyReader.GetBoolean(extra, DoImageSplittingKey);
        int? longestEdge = AdditionalPropertyReader.GetInt32(extra, LongestEdgeKey);
        string? alpha = AdditionalPropertyReader.GetString(extra, AlphaHandlingKey);
        AlphaHandling alphaHandling = processing.AlphaHandling;
        if (alpha is not null && (!IsEnumName<AlphaHandling>(alpha) || !Enum.TryParse(alpha, ignoreCase: true, out alphaHandling)))
        {
            throw new ArgumentException(
                $"Additional property '{AlphaHandlingKey}' must be one of {string.Join(", ", Enum.GetNames<AlphaHandling>())}; got '{alpha}'.", nameof(options));
        }

        if (longestEdge is <= 0)
        {
            throw new ArgumentException($"Additional property '{LongestEdgeKey}' must be positive; got {longestEdge}.", nameof(options));
        }

        return processing with
        {
            DoImageSplitting = split ?? processing.DoImageSplitting,
            LongestEdge = longestEdge ?? processing.LongestEdge,
            AlphaHandling = alphaHandling,
        };
    }

    private void Unsupported(string what, string why)
    {
        switch (_options.UnsupportedContent)
        {
            case UnsupportedContentBehavior.Ignore:
                return;
            case UnsupportedContentBehavior.Warn:
                LogDroppedContent(_logger, what, why);
                return;
            default:
                throw new NotSupportedException(
                    $"Cannot send {what} to the model: {why}. Set Idefics3ChatClientOptions.UnsupportedContent to Warn or Ignore to leave such content out.");
        }
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Left out {What}: {Why}")]
    private static partial void LogDroppedContent(ILogger logger, string what, string why);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "ChatOptions.AdditionalProperties key '{Key}' is not used by this client (known keys: {Known})")]
    private static partial void LogUnknownProperty(ILogger logger, string key, string known);

    /// <summary>Whether <paramref name="value"/> is the name of a member (any case); numbers such as "1" are not names.</summary>
    private static bool IsEnumName<TEnum>(string value)
        where TEnum : struct, Enum =>
        Enum.GetNames<TEnum>().Any(name => string.Equals(name, value.Trim(), StringComparison.OrdinalIgnoreCase));
}
