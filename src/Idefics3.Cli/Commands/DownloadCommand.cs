using System.CommandLine;
using Idefics3.Cli.Output;
using Microsoft.Extensions.Logging;

namespace Idefics3.Cli.Commands;

/// <summary><c>idefics3 download [model]</c>: fetches a model into the Hugging Face cache and prints its snapshot folder.</summary>
internal static class DownloadCommand
{
    public static Command Create()
    {
        var modelArgument = new Argument<string?>("model")
        {
            Description = "Hugging Face repository id org/name[@revision] (or use --model).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        Option<string> modelOption = GlobalOptions.CreateModelOption();
        Option<string?> cacheDir = HubSettings.CreateCacheDirOption();
        Option<bool> offline = HubSettings.CreateOfflineOption();
        var command = new Command("download", "Download a model from the Hugging Face hub into the local cache and print its folder.");
        command.Arguments.Add(modelArgument);
        command.Options.Add(modelOption);
        command.Options.Add(cacheDir);
        command.Options.Add(offline);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string? positional = parse.GetValue(modelArgument);
            bool explicitOption = parse.GetResult(modelOption) is { Implicit: false };
            if (positional is not null && explicitOption)
            {
                throw new UsageException("Give the model either as an argument or with --model, not both.");
            }

            string model = positional ?? parse.GetValue(modelOption) ?? GlobalOptions.DefaultModel;
            using ILoggerFactory loggerFactory = CliLogging.Create(parse.GetValue(GlobalOptions.Verbose));
            var hubOptions = HubSettings.Create(parse.GetValue(cacheDir), parse.GetValue(offline), checkForUpdates: true);
            string folder = await ProgressDisplay.Create(parse.GetValue(GlobalOptions.Quiet))
                .ResolveModelAsync(model, hubOptions, loggerFactory, cancellationToken);
            Console.Out.WriteLine(folder);
            return ExitCodes.Success;
        });
        return command;
    }
}
