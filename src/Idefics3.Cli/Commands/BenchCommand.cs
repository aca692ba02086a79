using System.CommandLine;
using System.Text.Json;
using Idefics3.Cli.Bench;

namespace Idefics3.Cli.Commands;

/// <summary>
/// <c>idefics3 bench</c>: measures speed and memory against this machine's own roofline, on a random-weight model with
/// the exact shapes of a real checkpoint (written once to a temporary folder) or on a real model folder.
/// </summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Create()
    {
        var shape = new Option<string?>("--shape")
        {
            Description = "Benchmark random weights with the shapes of: " + string.Join(", ", BenchModelFolder.Shapes.Keys) + " (default smolvlm-256m).",
        };
        shape.AcceptOnlyFromAmong([.. BenchModelFolder.Shapes.Keys]);
        var model = new Option<string?>("--model", "-m") { Description = "Benchmark a real model folder instead of a shape." };
        Option<string> dtype = GlobalOptions.CreateDTypeOption();
        var repeat = new Option<int>("--repeat", "-r") { Description = "Repetitions of each measurement (min and median are reported).", DefaultValueFactory = _ => 3 };
        var decodeTokens = new Option<int>("--decode-tokens") { Description = "Tokens generated to measure decode (tokens 2..N count).", DefaultValueFactory = _ => 32 };
        var skipLarge = new Option<bool>("--skip-17-tiles") { Description = "Skip the 17-tile time to first token, decode and warm-turn measurements." };
        var workDir = new Option<string?>("--work-dir") { Description = "Where random-weight models are written (default: the temp folder)." };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file ('-' for stdout, then the table goes to stderr)." };
        var toolCalls = new Option<string?>("--tool-call-constraint") { Description = "Only measure the tool-call constraint's cost per token on the tokenizer of this model folder (no forward passes)." };
        var ompWait = new Option<string?>("--omp-wait-policy") { Description = "Set OMP_WAIT_POLICY (active|passive) natively before libtorch loads, to compare." };
        ompWait.AcceptOnlyFromAmong("active", "passive");
        var decodeStep = new Option<bool>("--decode-step")
        {
            Description = "Only measure the decode step: libtorch against the C# step (1 and 2 threads), interleaved with a bandwidth probe, and a per-phase breakdown.",
        };
        var context = new Option<int>("--context") { Description = "Context length for --decode-step and --page-faults.", DefaultValueFactory = _ => 1100 };
        var pageFaults = new Option<bool>("--page-faults")
        {
            Description = "Only measure minor page faults and time of a --context-token prefill (cache per request and reused) and of the vision tower on 1 and 4 tiles.",
        };
        var skipLibtorch = new Option<bool>("--skip-libtorch")
        {
            Description = "With --decode-step: measure only the C# step (the libtorch step and its op-by-op breakdown take minutes on the large shapes).",
        };
        var layers = new Option<int?>("--layers")
        {
            Description = "With --shape: keep only this many decoder layers (exact per-layer shapes, embeddings, lm_head and vision tower; written to its own folder), e.g. idefics3-8b --layers 8.",
        };
        var weightsInMemory = new Option<bool>("--weights-in-memory")
        {
            Description = "Read the weights into process memory (huge-page advised) at load instead of memory-mapping them.",
        };
        var command = new Command("bench", "Measure speed and memory of a model shape against this machine's roofline (bandwidth, GEMM peak).");
        foreach (Option option in new Option[] { shape, model, dtype, repeat, decodeTokens, skipLarge, workDir, json, ompWait, decodeStep, pageFaults, context, skipLibtorch, layers, weightsInMemory, toolCalls })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(ompWait) is string policy)
            {
                NativeEnvironment.SetIfUnset("OMP_WAIT_POLICY", policy.ToUpperInvariant());
            }

            if (parse.GetValue(toolCalls) is string vocabularyFolder)
            {
                Bench.ToolCallBench.Run(vocabularyFolder, Console.Out);
                return ExitCodes.Success;
            }

            string? modelPath = parse.GetValue(model);
            if (modelPath is not null && parse.GetValue(shape) is not null)
            {
                throw new UsageException("Use either --shape or --model, not both.");
            }

            if (modelPath is not null && parse.GetValue(layers) is not null)
            {
                throw new UsageException("--layers applies to --shape only.");
            }

            if (parse.GetValue(repeat) < 1 || parse.GetValue(decodeTokens) < 2)
            {
                throw new UsageException("--repeat must be at least 1 and --decode-tokens at least 2.");
            }

            var settings = new BenchSettings(
                modelPath is null ? parse.GetValue(shape) ?? "smolvlm-256m" : null,
                modelPath,
                EngineLoader.ParseDType(parse.GetValue(dtype)),
                parse.GetValue(repeat),
                parse.GetValue(decodeTokens),
                parse.GetValue(skipLarge),
                parse.GetValue(workDir),
                parse.GetValue(layers),
                parse.GetValue(weightsInMemory));
            if (parse.GetValue(pageFaults))
            {
                await BenchRunner.RunPageFaultsAsync(settings, parse.GetValue(context), Console.Out, cancellationToken);
                return ExitCodes.Success;
            }

            if (parse.GetValue(decodeStep))
            {
                await BenchRunner.RunDecodeStepAsync(settings, parse.GetValue(context), !parse.GetValue(skipLibtorch), Console.Out, cancellationToken);
                return ExitCodes.Success;
            }

            string? jsonPath = parse.GetValue(json);
            TextWriter table = jsonPath == "-" ? Console.Error : Console.Out;
            BenchReport report = await new BenchRunner(Console.Error).RunAsync(settings, cancellationToken);
            table.WriteLine();
            BenchRunner.PrintTable(report, table);
            if (jsonPath is not null)
            {
                string text = JsonSerializer.Serialize(report, s_json);
                if (jsonPath == "-")
                {
                    Console.Out.WriteLine(text);
                }
                else
                {
                    await File.WriteAllTextAsync(jsonPath, text, cancellationToken);
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
