using System.CommandLine;
using Idefics3.Cli.Output;
using Microsoft.Extensions.Logging;

namespace Idefics3.Cli.Commands;

/// <summary>Resolves <c>--model</c> (downloading it if needed) and loads the engine, with progress on stderr.</summary>
internal static class EngineLoader
{
    public static async Task<Idefics3Engine> LoadAsync(
        ParseResult parse, GenerationArguments arguments, ProgressDisplay progress, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        string model = arguments.ModelValue(parse);
        string folder = await progress.ResolveModelAsync(model, arguments.HubOptions(parse), loggerFactory, cancellationToken);
        var options = new Idefics3EngineOptions
        {
            Device = parse.GetValue(arguments.Device) ?? "auto",
            DType = ParseDType(parse.GetValue(arguments.DType)),
            Threads = parse.GetValue(arguments.Threads),
            LoadWeightsIntoMemory = parse.GetValue(arguments.WeightsInMemory),
            ModelId = Directory.Exists(model) ? null : model,
        };
        string title = Directory.Exists(model) ? Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)) : model;
        return await progress.RunLoadAsync(title, report =>
            Idefics3Engine.LoadAsync(
                folder,
                options,
                new ForwardingProgress(report),
                loggerFactory,
                cancellationToken));
    }

    public static ModelDType ParseDType(string? value) => value switch
    {
        null or "auto" => ModelDType.Auto,
        "float32" => ModelDType.Float32,
        "bfloat16" => ModelDType.BFloat16,
        "float16" => ModelDType.Float16,
        _ => throw new UsageException($"Unknown dtype '{value}'. Use auto, float32, bfloat16 or float16."),
    };

    private sealed class ForwardingProgress(IProgress<(double Fraction, string Message)> target) : IProgress<ModelLoadProgress>
    {
        public void Report(ModelLoadProgress value) => target.Report((value.Fraction, value.Message));
    }
}
