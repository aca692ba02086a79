using System.CommandLine;
using System.Text;
using Idefics3.Cli.Input;
using Idefics3.Cli.Output;
using Idefics3.Generation;
using Idefics3.Processing;
using Microsoft.Extensions.Logging;

namespace Idefics3.Cli.Commands;

/// <summary><c>idefics3 ask "question" --image a.jpg</c>: one question, the answer streamed to stdout (or one JSON object).</summary>
internal static class AskCommand
{
    public static Command Create()
    {
        var prompt = new Argument<string>("prompt")
        {
            Description = "The question or instruction ('-' reads it from stdin).",
        };
        var images = new Option<string[]>("--image", "-i")
        {
            Description = "An image file or http(s) URL (repeatable; images come before the text, in the order given).",
            Arity = ArgumentArity.ZeroOrMore,
            HelpName = "path|url",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object (text, input_ids, output_ids, finish_reason, usage, timings, logprobs) instead of streaming text.",
        };
        Option<int?> logprobs = new Option<int?>("--logprobs")
        {
            Description = "With --json: the log-probability of each generated token and of its K most likely alternatives (0-20).",
            HelpName = "K",
        }.InRange(0, GenerationDefaults.MaxTopLogProbs);

        var arguments = new GenerationArguments();
        var format = new ResponseFormatArguments();
        var command = new Command("ask", "Ask one question (optionally about images) and print the answer as it is generated.");
        command.Arguments.Add(prompt);
        command.Options.Add(images);
        arguments.AddTo(command);
        command.Options.Add(logprobs);
        command.Options.Add(json);
        format.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string text = parse.GetValue(prompt) ?? string.Empty;
            if (text == "-")
            {
                text = await Console.In.ReadToEndAsync(cancellationToken);
            }

            if (string.IsNullOrWhiteSpace(text))
            {
                throw new UsageException("The prompt is empty.");
            }

            int? topLogProbs = parse.GetValue(logprobs);
            if (topLogProbs is not null && !parse.GetValue(json))
            {
                throw new UsageException("--logprobs is reported in the JSON output: add --json.");
            }

            GenerationOptions generation = arguments.GenerationOptions(parse, topLogProbs) with { ResponseFormat = format.Read(parse) };
            ProcessorOptions? processing = arguments.ProcessorOptions(parse);

            // Read the images before loading the model: a missing file or a bad URL fails at once.
            var contents = new List<PromptContent>();
            using (var reader = new ImageSource())
            {
                foreach (string image in parse.GetValue(images) ?? [])
                {
                    contents.Add(await reader.LoadAsync(image, cancellationToken));
                }
            }

            contents.Add(new PromptText(text));
            List<PromptMessage> conversation = arguments.StartConversation(parse);
            if (generation.ResponseFormat is { } responseFormat)
            {
                responseFormat.AddInstructionTo(conversation);
            }

            conversation.Add(new PromptMessage("user", contents));

            bool quiet = parse.GetValue(GlobalOptions.Quiet);
            using ILoggerFactory loggerFactory = CliLogging.Create(parse.GetValue(GlobalOptions.Verbose));
            await using Idefics3Engine engine = await EngineLoader.LoadAsync(parse, arguments, ProgressDisplay.Create(quiet), loggerFactory, cancellationToken);
            if (parse.GetValue(json))
            {
                GenerationResult result = await engine.GenerateAsync(conversation, generation, processing, cancellationToken);
                if (result.FinishReason == FinishReason.Cancelled)
                {
                    throw new OperationCanceledException(cancellationToken);
                }

                AnswerJson.Write(Console.OpenStandardOutput(), engine.ModelId, result, topLogProbs);
                return ExitCodes.Success;
            }

            GenerationUpdate? last = await StreamAnswerAsync(engine, conversation, generation, processing, Console.Out, cancellationToken);
            if (!quiet && last is not null)
            {
                WriteStats(last);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Streams the answer to <paramref name="output"/>, flushing every delta, and ends it with a newline.</summary>
    /// <returns>The final update (usage, timings), or null if the stream ended without one.</returns>
    internal static async Task<GenerationUpdate?> StreamAnswerAsync(
        Idefics3Engine engine,
        IReadOnlyList<PromptMessage> conversation,
        GenerationOptions generation,
        ProcessorOptions? processing,
        TextWriter output,
        CancellationToken cancellationToken,
        StringBuilder? answer = null)
    {
        GenerationUpdate? last = null;
        try
        {
            await foreach (GenerationUpdate update in engine.GenerateStreamingAsync(conversation, generation, processing, cancellationToken))
            {
                if (update.Text.Length > 0)
                {
                    await output.WriteAsync(update.Text);
                    await output.FlushAsync(cancellationToken);
                    answer?.Append(update.Text);
                }

                last = update;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await output.WriteLineAsync();
            await output.FlushAsync(CancellationToken.None);
            throw;
        }

        await output.WriteLineAsync();
        await output.FlushAsync(CancellationToken.None);
        if (last?.FinishReason == FinishReason.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        return last;
    }

    internal static void WriteStats(GenerationUpdate last)
    {
        if (last.Usage is not { } usage || last.Timings is not { } timings)
        {
            return;
        }

        string cached = usage.CachedTokens > 0 ? GenerationArguments.Invariant($" ({usage.CachedTokens} cached)") : string.Empty;
        Console.Error.WriteLine(GenerationArguments.Invariant(
            $"[{usage.InputTokens} prompt tokens{cached}, {usage.OutputTokens} generated; first token {timings.TimeToFirstTokenMilliseconds:0} ms, {timings.DecodeTokensPerSecond:0.0} tokens/s; finish: {AnswerJson.FinishReasonName(last.FinishReason ?? FinishReason.Stop)}]"));
    }
}
