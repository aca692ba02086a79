using System.CommandLine;
using System.CommandLine.Help;
using Idefics3.Cli.Commands;
using Idefics3.Hub;

namespace Idefics3.Cli;

/// <summary>Builds the command tree, parses the command line, runs the command and maps failures to exit codes.</summary>
internal static class CliApp
{
    /// <summary>The name in help and error messages: the tool command, whatever the assembly is called.</summary>
    public const string ToolName = "idefics3";

    public static Command BuildRootCommand()
    {
        // A plain Command (not RootCommand) so help shows the tool's name, not the assembly's.
        var root = new Command(ToolName, "Run Idefics3 / SmolVLM vision-language models locally (TorchSharp, CPU or CUDA).");
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        root.Options.Add(GlobalOptions.Verbose);
        root.Options.Add(GlobalOptions.Quiet);
        root.Subcommands.Add(AskCommand.Create());
        root.Subcommands.Add(ChatCommand.Create());
        root.Subcommands.Add(DownloadCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        Command root = BuildRootCommand();
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            foreach (var error in parse.Errors)
            {
                Console.Error.WriteLine("idefics3: error: " + error.Message);
            }

            string command = parse.CommandResult.Command == root ? "idefics3" : "idefics3 " + parse.CommandResult.Command.Name;
            Console.Error.WriteLine($"Run '{command} --help' for usage.");
            return ExitCodes.Usage;
        }

        bool verbose = parse.GetValue(GlobalOptions.Verbose);
        using var cancellation = new CancellationTokenSource();
        void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
        {
            // First Ctrl+C: cancel the work and let it end cleanly. A second one terminates the process at once.
            if (!cancellation.IsCancellationRequested)
            {
                e.Cancel = true;
                cancellation.Cancel();
            }
        }

        Console.CancelKeyPress += OnCancelKeyPress;
        try
        {
            var configuration = new InvocationConfiguration
            {
                // The tool handles Ctrl+C itself (above) and reports errors itself (below).
                ProcessTerminationTimeout = null,
                EnableDefaultExceptionHandler = false,
            };
            return await parse.InvokeAsync(configuration, cancellation.Token);
        }
        catch (Exception ex)
        {
            return ReportError(ex, verbose, cancellation.IsCancellationRequested);
        }
        finally
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
        }
    }

    /// <summary>Writes a one-line message for <paramref name="exception"/> to stderr and returns the exit code.</summary>
    public static int ReportError(Exception exception, bool verbose, bool cancelled)
    {
        if (exception is OperationCanceledException && cancelled)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine("idefics3: cancelled.");
            return ExitCodes.Cancelled;
        }

        int code = IsUsageError(exception) ? ExitCodes.Usage : ExitCodes.Failure;
        Console.Error.WriteLine("idefics3: error: " + Describe(exception));
        if (verbose)
        {
            Console.Error.WriteLine(exception.ToString());
        }
        else if (code == ExitCodes.Failure && !IsExpected(exception))
        {
            Console.Error.WriteLine("Run with --verbose for details.");
        }

        return code;
    }

    private static bool IsUsageError(Exception exception) => exception switch
    {
        UsageException => true,
        HubException hub => hub.Kind is HubErrorKind.InvalidModelId or HubErrorKind.InvalidOptions,
        _ => false,
    };

    /// <summary>Failures whose message says it all (no hint about --verbose).</summary>
    private static bool IsExpected(Exception exception) =>
        exception is HubException or IOException or UnauthorizedAccessException or HttpRequestException or TimeoutException
            or InvalidDataException or NotSupportedException or InsufficientMemoryException
            or Configuration.ConfigurationException or Checkpoints.CheckpointException or ContextWindowExceededException
            or Imaging.ImageDecodeException or Templates.TemplateException or Generation.RequestQueueFullException;

    /// <summary>The exception's message on one line.</summary>
    private static string Describe(Exception exception)
    {
        string message = exception is AggregateException { InnerExceptions.Count: 1 } aggregate
            ? aggregate.InnerExceptions[0].Message
            : exception.Message;
        message = message.ReplaceLineEndings(" ").Trim();
        return string.IsNullOrEmpty(message) ? exception.GetType().Name : message;
    }
}
