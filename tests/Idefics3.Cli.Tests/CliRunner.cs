using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Idefics3.Cli.Tests;

/// <summary>The result of one run of the tool.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// Runs the built tool as a child process (<c>dotnet Idefics3.Cli.dll ...</c>) with a controlled environment: the hub
/// cache in a temporary folder and the endpoint on a closed local port unless a test sets them, so no test touches the
/// user's cache or the internet.
/// </summary>
internal static class CliRunner
{
    public static readonly string ToolPath = typeof(CliRunner).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "Idefics3CliPath").Value!;

    public static string FixturePath(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static string TinyModel => FixturePath("tiny-model");

    private static async Task PumpAsync(StreamReader reader, StringBuilder target)
    {
        char[] buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (target)
            {
                target.Append(buffer, 0, read);
            }
        }
    }

    /// <summary>Sends SIGINT (what Ctrl+C sends) to a process.</summary>
    public static async Task InterruptAsync(Process process)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", "INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        await kill.WaitForExitAsync();
    }

    /// <summary>Whether this process ignores SIGINT (bit 2 of SigIgn in /proc/self/status); false off Linux.</summary>
    private static bool SigIntIgnored()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null &&
            (ulong.Parse(line["SigIgn:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) & 0b10) != 0;
    }

    /// <summary>Waits until <paramref name="text"/> contains <paramref name="expected"/>.</summary>
    public static async Task WaitForAsync(StringBuilder text, string expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (text)
            {
                if (text.ToString().Contains(expected, StringComparison.Ordinal))
                {
                    return;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"'{expected}' did not appear in: {text}");
    }

    public static async Task<CliResult> RunAsync(
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? stdin = null,
        TimeSpan? timeout = null,
        Func<Process, StringBuilder, StringBuilder, Task>? whileRunning = null)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        // A test run started as a background job inherits SIGINT as ignored, and so would the CLI (the runtime keeps an
        // inherited SIG_IGN): restore the default so that the Ctrl+C tests test the CLI, not how CI was started.
        bool resetInterrupt = SigIntIgnored();
        var info = new ProcessStartInfo(resetInterrupt ? "env" : dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (resetInterrupt)
        {
            info.ArgumentList.Add("--default-signal=INT");
            info.ArgumentList.Add(dotnet);
        }

        info.ArgumentList.Add(ToolPath);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (string name in new[] { "HF_TOKEN", "HF_HUB_OFFLINE", "HF_HOME", "HF_ENDPOINT", "HF_HUB_CACHE" })
        {
            info.Environment.Remove(name);
        }

        // Port 9 (discard) on loopback: connections are refused at once, nothing leaves the machine.
        info.Environment["HF_ENDPOINT"] = "http://127.0.0.1:9";
        info.Environment["HF_HUB_CACHE"] = Path.Combine(Path.GetTempPath(), "idefics3-cli-tests-empty-cache");
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        // Raw character reads (not line events), so the text is exactly what the tool wrote, \r and all.
        Task stdoutDone = PumpAsync(process.StandardOutput, stdout);
        Task stderrDone = PumpAsync(process.StandardError, stderr);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        if (whileRunning is not null)
        {
            // stdin stays open while the callback runs (a chat waiting for input), then closes.
            await whileRunning(process, stdout, stderr);
        }

        process.StandardInput.Close();

        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(stdoutDone, stderrDone).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"idefics3 {string.Join(' ', args)} did not finish in time.\nstdout: {stdout}\nstderr: {stderr}");
        }

        lock (stdout)
        {
            lock (stderr)
            {
                return new CliResult(process.ExitCode, stdout.ToString(), stderr.ToString());
            }
        }
    }
}
