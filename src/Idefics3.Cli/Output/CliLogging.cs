using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Idefics3.Cli.Output;

/// <summary>Logging for the tool: warnings by default, debug with --verbose; always to stderr so stdout stays clean.</summary>
internal static class CliLogging
{
    public static ILoggerFactory Create(bool verbose) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Warning);
        builder.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = verbose ? "HH:mm:ss.fff " : null;
        });
    });
}
