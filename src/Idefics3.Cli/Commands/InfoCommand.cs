using System.CommandLine;
using System.Globalization;
using Idefics3.Cli.Output;
using Microsoft.Extensions.Logging;

namespace Idefics3.Cli.Commands;

/// <summary><c>idefics3 info</c>: configuration, parameter count, dtype on disk, memory estimate and files of a model.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        Option<string> model = GlobalOptions.CreateModelOption();
        Option<string> dtype = GlobalOptions.CreateDTypeOption();
        Option<string> device = GlobalOptions.CreateDeviceOption();
        Option<string?> cacheDir = HubSettings.CreateCacheDirOption();
        Option<bool> offline = HubSettings.CreateOfflineOption();
        var command = new Command("info", "Show a model's configuration, parameter count, memory estimate and files (downloads it if needed; no weights are loaded).");
        command.Options.Add(model);
        command.Options.Add(dtype);
        command.Options.Add(device);
        command.Options.Add(cacheDir);
        command.Options.Add(offline);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ILoggerFactory loggerFactory = CliLogging.Create(parse.GetValue(GlobalOptions.Verbose));
            string modelValue = parse.GetValue(model) ?? GlobalOptions.DefaultModel;
            var hubOptions = HubSettings.Create(parse.GetValue(cacheDir), parse.GetValue(offline));
            string folder = await ProgressDisplay.Create(parse.GetValue(GlobalOptions.Quiet))
                .ResolveModelAsync(modelValue, hubOptions, loggerFactory, cancellationToken);
            ModelSummary summary = ModelSummary.Read(folder);
            string computeDType = ModelSummary.ResolveDType(parse.GetValue(dtype) ?? "auto", parse.GetValue(device) ?? "auto");
            Write(Console.Out, modelValue, summary, computeDType);
            return ExitCodes.Success;
        });
        return command;
    }

    internal static void Write(TextWriter output, string model, ModelSummary summary, string computeDType)
    {
        var config = summary.Config;
        var vision = config.Vision;
        var text = config.Text;
        void Row(string label, string value) => output.WriteLine($"{label,-16}{value}");
        string I(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

        Row("Model", model);
        Row("Folder", summary.Folder);
        Row("Type", summary.Architecture is null ? config.ModelType : I($"{config.ModelType} ({summary.Architecture})"));
        Row("Vision encoder", I($"hidden {vision.HiddenSize}, {vision.NumHiddenLayers} layers, {vision.NumAttentionHeads} heads (head dim {vision.HeadDim}), MLP {vision.IntermediateSize}"));
        Row("Vision input", I($"{vision.ImageSize} px tiles, patch {vision.PatchSize} ({vision.PatchesPerSide}x{vision.PatchesPerSide} patches)"));
        Row("Connector", I($"pixel shuffle x{config.ScaleFactor}, {config.ConnectorInputSize} -> {text.HiddenSize}"));
        Row("Text decoder", I($"hidden {text.HiddenSize}, {text.NumHiddenLayers} layers, {text.NumAttentionHeads} heads, {text.NumKeyValueHeads} KV heads (head dim {text.HeadDim}), MLP {text.IntermediateSize}"));
        Row("Vocabulary", I($"{text.VocabSize} tokens (image token id {config.ImageTokenId})"));
        Row("Image tokens", I($"{config.ImageSeqLen} per tile (image_seq_len)"));
        Row("Context window", I($"{text.MaxPositionEmbeddings} tokens"));
        Row("Parameters", I($"{Units.Count(summary.ParameterCount)} ({Units.Short(summary.ParameterCount)})"));
        string onDisk = string.Join(", ", summary.ElementsByDType.Select(kv =>
            summary.ParameterCount == 0 ? kv.Key : I($"{kv.Key} {100.0 * kv.Value / summary.ParameterCount:0.#}%")));
        Row("DType on disk", I($"{onDisk} ({Units.Bytes(summary.WeightFileBytes)} of safetensors)") + (summary.ConfigDType is null ? string.Empty : I($"; config torch_dtype {summary.ConfigDType}")));
        int elementSize = ModelSummary.ElementSize(computeDType);
        long weights = summary.ParameterCount * elementSize;
        long kvPer1K = summary.KvElementsPerToken * elementSize * 1000;
        Row("Memory", I($"{Units.Bytes(weights)} weights in {computeDType} + {Units.Bytes(kvPer1K)} KV cache per 1k tokens"));
        Row("Files", I($"{summary.Files.Count}"));
        int width = summary.Files.Count == 0 ? 0 : summary.Files.Max(f => f.Name.Length);
        foreach ((string name, long bytes) in summary.Files)
        {
            output.WriteLine(I($"  {name.PadRight(width)}  {Units.Bytes(bytes),10}"));
        }
    }
}
