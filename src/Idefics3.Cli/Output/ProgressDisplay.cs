using System.Diagnostics;
using Idefics3.Hub;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Idefics3.Cli.Output;

/// <summary>
/// Progress for downloads and model loading, always on stderr: Spectre.Console progress bars on an interactive
/// terminal, throttled plain lines when the output is redirected, nothing with --quiet.
/// </summary>
internal sealed class ProgressDisplay
{
    private static readonly TimeSpan s_plainInterval = TimeSpan.FromSeconds(1);

    private readonly DisplayMode _mode;

    private ProgressDisplay(DisplayMode mode) => _mode = mode;

    private enum DisplayMode
    {
        None,
        Plain,
        Rich,
    }

    public static ProgressDisplay Create(bool quiet)
    {
        if (quiet)
        {
            return new ProgressDisplay(DisplayMode.None);
        }

        // IDEFICS3_PROGRESS=rich|plain|none overrides the detection (for CI logs, or a terminal the detection gets wrong).
        switch (Environment.GetEnvironmentVariable("IDEFICS3_PROGRESS")?.Trim().ToLowerInvariant())
        {
            case "rich":
                return new ProgressDisplay(DisplayMode.Rich);
            case "plain":
                return new ProgressDisplay(DisplayMode.Plain);
            case "none":
                return new ProgressDisplay(DisplayMode.None);
        }

        bool interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected &&
            !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);
        return new ProgressDisplay(interactive ? DisplayMode.Rich : DisplayMode.Plain);
    }

    /// <summary>
    /// Resolves <c>--model</c> to a local folder: a folder is used as it is, a hub id is downloaded into the cache
    /// (or found there) with a progress display.
    /// </summary>
    public async Task<string> ResolveModelAsync(string model, HubOptions? hubOptions, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        using var resolver = new HubModelResolver(loggerFactory.CreateLogger<HubModelResolver>());
        if (Directory.Exists(model))
        {
            return await resolver.ResolveAsync(model, hubOptions, null, cancellationToken);
        }

        return await RunDownloadAsync(model, progress => resolver.ResolveAsync(model, hubOptions, progress, cancellationToken));
    }

    /// <summary>Runs a download with a per-file and total progress display.</summary>
    public async Task<T> RunDownloadAsync<T>(string title, Func<IProgress<DownloadProgress>, Task<T>> work)
    {
        var stopwatch = Stopwatch.StartNew();
        DownloadProgress? last = null;
        T result;
        switch (_mode)
        {
            case DisplayMode.Rich:
                result = await CreateConsole().Progress()
                    .AutoClear(true)
                    .HideCompleted(true)
                    .Columns(
                        new TaskDescriptionColumn { Alignment = Justify.Left },
                        new ProgressBarColumn(),
                        new PercentageColumn(),
                        new DownloadedColumn(),
                        new TransferSpeedColumn(),
                        new RemainingTimeColumn(),
                        new SpinnerColumn())
                    .StartAsync(async context =>
                    {
                        var bars = new RichDownloadProgress(context, title);
                        T value = await work(bars);
                        last = bars.Last;
                        return value;
                    });
                break;
            case DisplayMode.Plain:
                var lines = new PlainDownloadProgress(title);
                result = await work(lines);
                last = lines.Last;
                break;
            default:
                var silent = new LastDownloadProgress();
                result = await work(silent);
                last = silent.Last;
                break;
        }

        if (_mode != DisplayMode.None && last is { TotalBytesDownloaded: > 0 })
        {
            Console.Error.WriteLine(Units.Invariant(
                $"Downloaded {last.FileCount} file(s) of {title}, {Units.Bytes(last.TotalBytesDownloaded)} in {Units.Duration(stopwatch.Elapsed)}."));
        }

        return result;
    }

    /// <summary>Runs model loading with a progress display; the work reports a fraction (0..1) and a message.</summary>
    public async Task<T> RunLoadAsync<T>(string title, Func<IProgress<(double Fraction, string Message)>, Task<T>> work)
    {
        var stopwatch = Stopwatch.StartNew();
        T result;
        switch (_mode)
        {
            case DisplayMode.Rich:
                result = await CreateConsole().Progress()
                    .AutoClear(true)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                    .StartAsync(async context =>
                    {
                        ProgressTask task = context.AddTask(Markup.Escape("Loading " + title), maxValue: 1.0);
                        var gate = new Lock();
                        var progress = new SynchronousProgress<(double Fraction, string Message)>(p =>
                        {
                            lock (gate)
                            {
                                task.Description = Markup.Escape($"Loading {title}: {p.Message}");
                                task.Value = Math.Clamp(p.Fraction, 0, 1);
                            }
                        });
                        T value = await work(progress);
                        task.Value = task.MaxValue;
                        return value;
                    });
                break;
            case DisplayMode.Plain:
                var plain = new SynchronousProgress<(double Fraction, string Message)>(p =>
                    Console.Error.WriteLine(Units.Invariant($"Loading {title}: {p.Message} ({p.Fraction * 100:0}%)")));
                result = await work(plain);
                break;
            default:
                result = await work(new SynchronousProgress<(double Fraction, string Message)>(static _ => { }));
                break;
        }

        if (_mode != DisplayMode.None)
        {
            Console.Error.WriteLine(Units.Invariant($"Loaded {title} in {stopwatch.Elapsed.TotalSeconds:0.0} s."));
        }

        return result;
    }

    /// <summary>A Spectre console on stderr, so stdout keeps only the answer (or the JSON).</summary>
    private static IAnsiConsole CreateConsole() =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    /// <summary>An <see cref="IProgress{T}"/> that calls its handler on the reporting thread (no synchronization context hop).</summary>
    private sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }

    private class LastDownloadProgress : IProgress<DownloadProgress>
    {
        private readonly Lock _gate = new();

        public DownloadProgress? Last { get; private set; }

        public void Report(DownloadProgress value)
        {
            lock (_gate)
            {
                Last = value;
                OnReport(value);
            }
        }

        /// <summary>Called under the lock for every report.</summary>
        protected virtual void OnReport(DownloadProgress value)
        {
        }
    }

    /// <summary>One bar per file in flight (hidden when complete) and one for the total.</summary>
    private sealed class RichDownloadProgress(ProgressContext context, string title) : LastDownloadProgress
    {
        private readonly ProgressTask _total = context.AddTask(Markup.Escape(title), maxValue: 1);
        private readonly Dictionary<string, ProgressTask> _files = new(StringComparer.Ordinal);

        protected override void OnReport(DownloadProgress value)
        {
            if (value.TotalBytes > 0)
            {
                _total.MaxValue = value.TotalBytes;
            }

            _total.Value = value.TotalBytesDownloaded;
            _total.Description = Markup.Escape(Units.Invariant($"{title} ({value.FilesCompleted}/{value.FileCount} files)"));
            if (!_files.TryGetValue(value.FileName, out ProgressTask? file))
            {
                file = context.AddTask("  " + Markup.Escape(value.FileName), maxValue: Math.Max(1, value.FileTotalBytes ?? 1));
                _files[value.FileName] = file;
            }

            if (value.FileTotalBytes is long size && size > 0)
            {
                file.MaxValue = size;
            }

            file.Value = value.IsFileComplete ? file.MaxValue : value.FileBytesDownloaded;
            if (value.IsFileComplete)
            {
                file.StopTask();
            }
        }
    }

    /// <summary>Throttled plain lines on stderr: a line per finished file and a total line at most once a second.</summary>
    private sealed class PlainDownloadProgress(string title) : LastDownloadProgress
    {
        private readonly HashSet<string> _completed = new(StringComparer.Ordinal);
        private long _lastLine = long.MinValue;

        protected override void OnReport(DownloadProgress value)
        {
            if (value.IsFileComplete && _completed.Add(value.FileName))
            {
                Console.Error.WriteLine(Units.Invariant($"  {value.FileName}: done ({Units.Bytes(value.FileTotalBytes ?? value.FileBytesDownloaded)})"));
            }

            long now = Stopwatch.GetTimestamp();
            bool finished = value.FileCount > 0 && value.FilesCompleted == value.FileCount;
            if (!finished && Stopwatch.GetElapsedTime(_lastLine, now) < s_plainInterval && _lastLine != long.MinValue)
            {
                return;
            }

            _lastLine = now;
            string percent = value.TotalBytes > 0 ? Units.Invariant($" ({100.0 * value.TotalBytesDownloaded / value.TotalBytes:0}%)") : string.Empty;
            string eta = value.BytesPerSecond > 0 && value.TotalBytes > value.TotalBytesDownloaded
                ? ", " + Units.Duration(TimeSpan.FromSeconds((value.TotalBytes - value.TotalBytesDownloaded) / value.BytesPerSecond)) + " left"
                : string.Empty;
            Console.Error.WriteLine(Units.Invariant(
                $"Downloading {title}: {value.FilesCompleted}/{value.FileCount} files, {Units.Bytes(value.TotalBytesDownloaded)} of {Units.Bytes(value.TotalBytes)}{percent}, {Units.Rate(value.BytesPerSecond)}{eta}"));
        }
    }
}
