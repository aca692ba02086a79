using System.CommandLine;
using System.Globalization;
using Idefics3.Generation;
using Idefics3.Hub;
using Idefics3.Processing;

namespace Idefics3.Cli.Commands;

/// <summary>The model, sampling and image-processing options shared by <c>ask</c> and <c>chat</c>.</summary>
internal sealed class GenerationArguments
{
    public Option<string> Model { get; } = GlobalOptions.CreateModelOption();

    public Option<string> DType { get; } = GlobalOptions.CreateDTypeOption();

    public Option<string> Device { get; } = GlobalOptions.CreateDeviceOption();

    public Option<string?> CacheDir { get; } = HubSettings.CreateCacheDirOption();

    public Option<bool> Offline { get; } = HubSettings.CreateOfflineOption();

    public Option<int?> Threads { get; } = new Option<int?>("--threads")
    {
        Description = "CPU threads for libtorch (default: one per core).",
    }.AtLeast(1);

    public Option<bool> WeightsInMemory { get; } = new("--weights-in-memory")
    {
        Description = "Read the weights into memory at load instead of memory-mapping them (faster decode on some machines; see docs/benchmarks.md).",
    };

    public Option<string?> System { get; } = new("--system", "-s")
    {
        Description = "A system message placed before the conversation.",
    };

    public Option<float?> Temperature { get; } = new Option<float?>("--temperature", "-t")
    {
        Description = "Sampling temperature; 0 (the default) is greedy decoding.",
    }.InRange(0, 100, inclusiveMinimum: true);

    public Option<float?> TopP { get; } = new Option<float?>("--top-p")
    {
        Description = "Nucleus sampling: keep the most likely tokens up to this probability mass, in (0, 1].",
    }.InRange(0, 1, inclusiveMinimum: false);

    public Option<int?> TopK { get; } = new Option<int?>("--top-k")
    {
        Description = "Sample from the K most likely tokens only (0 = off).",
    }.AtLeast(0);

    public Option<int?> MaxTokens { get; } = new Option<int?>("--max-tokens", "-n")
    {
        Description = "The most tokens to generate (default 512, capped by the context window).",
    }.AtLeast(1);

    public Option<long?> Seed { get; } = new("--seed")
    {
        Description = "Random seed for sampling (for reproducible answers with --temperature > 0).",
    };

    public Option<string[]> Stop { get; } = new("--stop")
    {
        Description = "Stop generating at this text (repeatable).",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<bool> NoSplit { get; } = new("--no-split")
    {
        Description = "Do not split images into tiles (one global frame per image: fewer tokens, less detail).",
    };

    public Option<int?> LongestEdge { get; } = new Option<int?>("--longest-edge")
    {
        Description = "Resize images so the longest edge is N pixels before splitting (default: the processor's setting).",
        HelpName = "N",
    }.AtLeast(1);

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(DType);
        command.Options.Add(Device);
        command.Options.Add(Threads);
        command.Options.Add(WeightsInMemory);
        command.Options.Add(CacheDir);
        command.Options.Add(Offline);
        command.Options.Add(System);
        command.Options.Add(Temperature);
        command.Options.Add(TopP);
        command.Options.Add(TopK);
        command.Options.Add(MaxTokens);
        command.Options.Add(Seed);
        command.Options.Add(Stop);
        command.Options.Add(NoSplit);
        command.Options.Add(LongestEdge);
    }

    public string ModelValue(ParseResult parse) => parse.GetValue(Model) ?? GlobalOptions.DefaultModel;

    public HubOptions HubOptions(ParseResult parse) => HubSettings.Create(parse.GetValue(CacheDir), parse.GetValue(Offline));

    public GenerationOptions GenerationOptions(ParseResult parse, int? topLogProbs)
    {
        try
        {
            return new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(MaxTokens),
                Temperature = parse.GetValue(Temperature) ?? GenerationDefaults.Temperature,
                TopP = parse.GetValue(TopP) ?? GenerationDefaults.TopP,
                TopK = parse.GetValue(TopK) ?? GenerationDefaults.TopK,
                Seed = parse.GetValue(Seed),
                StopSequences = parse.GetValue(Stop) ?? [],
                LogProbs = topLogProbs is not null,
                TopLogProbs = topLogProbs ?? 0,
            };
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message, ex);
        }
    }

    public ProcessorOptions? ProcessorOptions(ParseResult parse)
    {
        bool noSplit = parse.GetValue(NoSplit);
        int? longestEdge = parse.GetValue(LongestEdge);
        return !noSplit && longestEdge is null
            ? null
            : new ProcessorOptions { DoImageSplitting = noSplit ? false : null, LongestEdge = longestEdge };
    }

    /// <summary>The system message (when given) as the first message of a conversation.</summary>
    public List<PromptMessage> StartConversation(ParseResult parse)
    {
        string? system = parse.GetValue(System);
        return string.IsNullOrWhiteSpace(system) ? [] : [PromptMessage.FromText("system", system)];
    }

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
