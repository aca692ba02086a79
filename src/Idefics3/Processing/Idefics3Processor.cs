using Idefics3.Configuration;
using Idefics3.Imaging;
using Idefics3.Templates;
using Idefics3.Tokenization;

namespace Idefics3.Processing;

/// <summary>
/// Turns a conversation into model inputs exactly as Hugging Face's <c>Idefics3Processor</c> (transformers 4.47.1):
/// chat template → <c>&lt;image&gt;</c> expansion into tile/global blocks → tokenization, and images → Pillow-exact
/// resize/split/normalise. Works for Idefics3 and SmolVLM checkpoints; independent of TorchSharp (plain arrays).
/// </summary>
/// <remarks>
/// <para><b>BOS policy.</b> The chat templates of these checkpoints start with the BOS literal
/// (<c>&lt;|begin_of_text|&gt;</c> / <c>&lt;|im_start|&gt;</c>). By default the tokenizer's post-processor BOS is added only
/// when the prompt does not already start with it, so a templated prompt has a single BOS (what newer
/// <c>apply_chat_template(tokenize=True)</c> gives) and a raw prompt such as <c>"&lt;image&gt;What is this?"</c> gets one
/// from the tokenizer. <see cref="ProcessorOptions.LegacyDoubleBos"/> always applies the tokenizer's rule, reproducing
/// transformers 4.47's <c>processor(text=apply_chat_template(...))</c> double BOS for Idefics3-8B.</para>
/// <para>Instances are thread-safe.</para>
/// </remarks>
public sealed class Idefics3Processor
{
    private readonly int _imageTokenId;

    /// <summary>Initializes a new instance of the <see cref="Idefics3Processor"/> class.</summary>
    /// <param name="tokenizer">The tokenizer.</param>
    /// <param name="chatTemplate">The chat template (null: only <see cref="ProcessText"/> can be used).</param>
    /// <param name="preprocessorConfig">The image-processor configuration.</param>
    /// <param name="processorConfig">The processor configuration.</param>
    public Idefics3Processor(HuggingFaceTokenizer tokenizer, ChatTemplate? chatTemplate, PreprocessorConfig preprocessorConfig, ProcessorConfig processorConfig)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(preprocessorConfig);
        ArgumentNullException.ThrowIfNull(processorConfig);
        Tokenizer = tokenizer;
        ChatTemplate = chatTemplate;
        PreprocessorConfig = preprocessorConfig;
        ProcessorConfig = processorConfig;
        _imageTokenId = tokenizer.TokenToId(ImagePromptBuilder.ImageToken)
            ?? throw new ConfigurationException("tokenizer.json", "added_tokens", "the tokenizer has no '<image>' token.");
    }

    /// <summary>Gets the tokenizer.</summary>
    public HuggingFaceTokenizer Tokenizer { get; }

    /// <summary>Gets the chat template, when the checkpoint has one.</summary>
    public ChatTemplate? ChatTemplate { get; }

    /// <summary>Gets the image-processor configuration.</summary>
    public PreprocessorConfig PreprocessorConfig { get; }

    /// <summary>Gets the processor configuration.</summary>
    public ProcessorConfig ProcessorConfig { get; }

    /// <summary>Gets the id of the <c>&lt;image&gt;</c> token.</summary>
    public int ImageTokenId => _imageTokenId;

    /// <summary>Loads tokenizer, chat template, preprocessor_config.json and processor_config.json from a model folder.</summary>
    /// <param name="directory">The model folder.</param>
    /// <returns>The processor.</returns>
    /// <exception cref="ConfigurationException">A file is missing or malformed.</exception>
    public static Idefics3Processor FromDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return new Idefics3Processor(
            HuggingFaceTokenizer.FromDirectory(directory),
            ChatTemplate.FromDirectory(directory),
            PreprocessorConfig.Load(directory),
            ProcessorConfig.Load(directory));
    }

    /// <summary>Renders the conversation with the chat template (images as <c>&lt;image&gt;</c> placeholders, not expanded).</summary>
    /// <param name="conversation">The messages.</param>
    /// <param name="addGenerationPrompt">Whether the assistant prefix is appended.</param>
    /// <returns>The rendered prompt.</returns>
    /// <exception cref="ConfigurationException">The checkpoint has no chat template.</exception>
    public string RenderPrompt(IReadOnlyList<PromptMessage> conversation, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var template = ChatTemplate ?? throw new ConfigurationException("chat_template.json", "chat_template", "the checkpoint has no usable chat template (chat_template.json, chat_template.jinja or tokenizer_config.json 'chat_template')");
        var messages = new List<object?>(conversation.Count);
        foreach (var message in conversation)
        {
            ArgumentNullException.ThrowIfNull(message);
            var contents = new List<object?>(message.Contents.Count);
            foreach (var part in message.Contents)
            {
                contents.Add(part switch
                {
                    PromptText t => new Dictionary<string, object?> { ["type"] = "text", ["text"] = t.Text },
                    PromptImage => new Dictionary<string, object?> { ["type"] = "image" },
                    _ => throw new ArgumentException($"Unsupported content part {part?.GetType().Name ?? "null"}.", nameof(conversation)),
                });
            }

            messages.Add(new Dictionary<string, object?> { ["role"] = message.Role, ["content"] = contents });
        }

        return template.Render(new Dictionary<string, object?>
        {
            ["messages"] = messages,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["bos_token"] = Tokenizer.BosToken,
            ["eos_token"] = Tokenizer.EosToken,
        });
    }

    /// <summary>Turns a conversation into model inputs.</summary>
    /// <param name="conversation">The messages; images are taken in order.</param>
    /// <param name="options">Per-call options; null for the checkpoint defaults.</param>
    /// <param name="addGenerationPrompt">Whether the assistant prefix is appended.</param>
    /// <returns>The inputs.</returns>
    /// <exception cref="ImageDecodeException">An image cannot be decoded or is too large.</exception>
    /// <exception cref="ImagePlaceholderMismatchException">A text part contains a literal <c>&lt;image&gt;</c>.</exception>
    public ProcessedPrompt Process(IReadOnlyList<PromptMessage> conversation, ProcessorOptions? options = null, bool addGenerationPrompt = true)
    {
        string rendered = RenderPrompt(conversation, addGenerationPrompt);
        return ProcessText(rendered, ImagesOf(conversation), options);
    }

    /// <summary>Turns an already rendered prompt (with <c>&lt;image&gt;</c> placeholders) and its images into model inputs.</summary>
    /// <param name="prompt">The prompt.</param>
    /// <param name="images">The encoded images, one per placeholder, in order.</param>
    /// <param name="options">Per-call options.</param>
    /// <returns>The inputs.</returns>
    public ProcessedPrompt ProcessText(string prompt, IReadOnlyList<ReadOnlyMemory<byte>> images, ProcessorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(images);
        options ??= new ProcessorOptions();
        CheckPlaceholders(prompt, images.Count);
        var processed = images.Select(i => ProcessImage(i, options)).ToList();
        string expanded = ImagePromptBuilder.Expand(prompt, processed.Select(p => (p.Rows, p.Cols)).ToList(), ProcessorConfig.ImageSeqLen);
        int[] ids = Tokenize(expanded, options);

        float[]? pixels = null;
        int[]? shape = null;
        byte[]? mask = null;
        if (processed.Count > 0)
        {
            (pixels, shape, mask) = Batch(processed);
        }

        var infos = processed.Select(p => new PromptImageInfo(p.Rows, p.Cols, p.FrameCount, p.ContentHash, p.OriginalWidth, p.OriginalHeight)).ToList();
        return new ProcessedPrompt(expanded, ids, pixels, shape, mask, infos, Account(ids, processed.Select(p => p.FrameCount).ToList()));
    }

    /// <summary>
    /// Counts the tokens a conversation will take without decoding any pixels: image sizes come from the headers, which
    /// is enough for the tile grid. Use it for context budgeting before the expensive work.
    /// </summary>
    /// <param name="conversation">The messages.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="addGenerationPrompt">Whether the assistant prefix is appended.</param>
    /// <returns>The token accounting.</returns>
    public TokenAccount CountTokens(IReadOnlyList<PromptMessage> conversation, ProcessorOptions? options = null, bool addGenerationPrompt = true)
        => CountTextTokens(RenderPrompt(conversation, addGenerationPrompt), ImagesOf(conversation), options);

    /// <summary>Counts the tokens of a rendered prompt and its images from the image headers only.</summary>
    /// <param name="prompt">The prompt with placeholders.</param>
    /// <param name="images">The encoded images.</param>
    /// <param name="options">Per-call options.</param>
    /// <returns>The token accounting.</returns>
    public TokenAccount CountTextTokens(string prompt, IReadOnlyList<ReadOnlyMemory<byte>> images, ProcessorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(images);
        options ??= new ProcessorOptions();
        CheckPlaceholders(prompt, images.Count);
        var settings = SettingsFor(options);
        var layouts = images.Select(i =>
        {
            var (w, h) = ImageDecoder.Identify(i.Span, new ImageDecodeOptions { MaxPixels = settings.MaxPixels });
            return Idefics3ImageProcessor.ComputeLayout(w, h, settings);
        }).ToList();
        string expanded = ImagePromptBuilder.Expand(prompt, layouts.Select(l => (l.Rows, l.Cols)).ToList(), ProcessorConfig.ImageSeqLen);
        return Account(Tokenize(expanded, options), layouts.Select(l => l.FrameCount).ToList());
    }

    /// <summary>Processes one image with the checkpoint settings and the options.</summary>
    /// <param name="image">The encoded image.</param>
    /// <param name="options">Per-call options.</param>
    /// <returns>The processed image.</returns>
    public ProcessedImage ProcessImage(ReadOnlyMemory<byte> image, ProcessorOptions? options = null) =>
        Idefics3ImageProcessor.Process(image.Span, SettingsFor(options ?? new ProcessorOptions()));

    /// <summary>Gets the effective image settings for the options.</summary>
    /// <param name="options">Per-call options.</param>
    /// <returns>The settings.</returns>
    public ImageProcessingSettings SettingsFor(ProcessorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.LongestEdge is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LongestEdge, "LongestEdge must be positive.");
        }

        return ImageProcessingSettings.FromConfig(PreprocessorConfig) with
        {
            LongestEdge = options.LongestEdge ?? PreprocessorConfig.LongestEdge,
            DoImageSplitting = options.DoImageSplitting ?? PreprocessorConfig.DoImageSplitting,
            AlphaHandling = options.AlphaHandling,
            MaxPixels = options.MaxImagePixels,
        };
    }

    /// <summary>Tokenizes an expanded prompt with the BOS policy of the options.</summary>
    /// <param name="expandedPrompt">The prompt.</param>
    /// <param name="options">Per-call options.</param>
    /// <returns>The ids.</returns>
    public int[] Tokenize(string expandedPrompt, ProcessorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(expandedPrompt);
        var ids = Tokenizer.Encode(expandedPrompt);
        var prefix = Tokenizer.PrefixSpecialIds;
        bool alreadyThere = prefix.Count > 0 && ids.Length >= prefix.Count && ids.AsSpan(0, prefix.Count).SequenceEqual(prefix.ToArray());
        bool add = options?.LegacyDoubleBos == true || !alreadyThere;
        if (!add)
        {
            return ids;
        }

        return [.. prefix, .. ids, .. Tokenizer.SuffixSpecialIds];
    }

    private static List<ReadOnlyMemory<byte>> ImagesOf(IReadOnlyList<PromptMessage> conversation)
        => conversation.SelectMany(m => m.Contents).OfType<PromptImage>().Select(i => i.Data).ToList();

    private static void CheckPlaceholders(string prompt, int images)
    {
        int placeholders = prompt.Split(ImagePromptBuilder.ImageToken).Length - 1;
        if (placeholders != images)
        {
            throw new ImagePlaceholderMismatchException(placeholders, images);
        }
    }

    private static (float[] Pixels, int[] Shape, byte[] Mask) Batch(List<ProcessedImage> images)
    {
        var frames = images.SelectMany(i => i.Frames).ToList();
        int maxH = frames.Max(f => f.Height);
        int maxW = frames.Max(f => f.Width);
        int n = frames.Count;
        int plane = maxH * maxW;
        var pixels = new float[(long)n * 3 * plane];
        var mask = new byte[(long)n * plane];
        int f = 0;
        foreach (var image in images)
        {
            int offset = 0;
            foreach (var frame in image.Frames)
            {
                int h = frame.Height;
                int w = frame.Width;
                for (int c = 0; c < 3; c++)
                {
                    for (int y = 0; y < h; y++)
                    {
                        Array.Copy(image.PixelValues, offset + (c * h * w) + (y * w), pixels, ((long)f * 3 * plane) + ((long)c * plane) + ((long)y * maxW), w);
                    }
                }

                for (int y = 0; y < h; y++)
                {
                    mask.AsSpan((f * plane) + (y * maxW), w).Fill(1);
                }

                offset += 3 * h * w;
                f++;
            }
        }

        return (pixels, [n, 3, maxH, maxW], mask);
    }

    private TokenAccount Account(int[] ids, IReadOnlyList<int> framesPerImage)
    {
        int image = ids.Count(i => i == _imageTokenId);
        return new TokenAccount(ids.Length, ids.Length - image, image, framesPerImage);
    }
}
