namespace Idefics3.Cli;

/// <summary>The process exit codes of the tool.</summary>
internal static class ExitCodes
{
    /// <summary>The command succeeded.</summary>
    public const int Success = 0;

    /// <summary>A runtime error: the model could not be found, downloaded or loaded, an image could not be read, ...</summary>
    public const int Failure = 1;

    /// <summary>The command line is invalid (unknown flag, bad value, missing argument).</summary>
    public const int Usage = 2;

    /// <summary>Cancelled with Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;
}
