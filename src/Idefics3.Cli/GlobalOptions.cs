using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Idefics3.Cli;

/// <summary>Options shared by several commands.</summary>
internal static partial class GlobalOptions
{
    /// <summary>The model used when <c>--model</c> is not given.</summary>
    public const string DefaultModel = "HuggingFaceTB/SmolVLM-256M-Instruct";

    /// <summary>Prints stack traces and debug logs (on every command).</summary>
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print debug logs and full error details (stack traces) to stderr.",
        Recursive = true,
    };

    /// <summary>Hides progress displays (on every command).</summary>
    public static readonly Option<bool> Quiet = new("--quiet", "-q")
    {
        Description = "Do not show download or loading progress.",
        Recursive = true,
    };

    /// <summary>Creates the <c>--model</c> option.</summary>
    public static Option<string> CreateModelOption() => new("--model", "-m")
    {
        Description = "A local model folder, or a Hugging Face repository id org/name[@revision].",
        DefaultValueFactory = _ => DefaultModel,
        HelpName = "folder|org/name[@rev]",
    };

    /// <summary>Creates the <c>--dtype</c> option.</summary>
    public static Option<string> CreateDTypeOption()
    {
        var option = new Option<string>("--dtype")
        {
            Description = "Compute dtype: auto (bfloat16 on CUDA and on CPUs with native bfloat16, else float32), float32, bfloat16, float16 (CUDA only).",
            DefaultValueFactory = _ => "auto",
        };
        option.AcceptOnlyFromAmong("auto", "float32", "bfloat16", "float16");
        return option;
    }

    /// <summary>Creates the <c>--device</c> option.</summary>
    public static Option<string> CreateDeviceOption()
    {
        var option = new Option<string>("--device")
        {
            Description = "Device: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.",
            DefaultValueFactory = _ => "auto",
            HelpName = "auto|cpu|cuda|cuda:N",
        };
        option.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (value is null || !IsValidDevice(value))
            {
                result.AddError($"Invalid device '{value}'. Use auto, cpu, cuda or cuda:N.");
            }
        });
        return option;
    }

    /// <summary>Checks a <c>--device</c> value.</summary>
    public static bool IsValidDevice(string value) => DevicePattern().IsMatch(value.Trim().ToLowerInvariant());

    /// <summary>Adds a validator that requires an integer option, when present, to be at least <paramref name="minimum"/>.</summary>
    public static Option<int?> AtLeast(this Option<int?> option, int minimum)
    {
        option.Validators.Add(result =>
        {
            if (TryGetValue<int?>(result) is int value && value < minimum)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{result.IdentifierToken?.Value ?? option.Name} must be at least {minimum} (got {value})."));
            }
        });
        return option;
    }

    /// <summary>Adds a validator that requires an integer option, when present, to be in a range.</summary>
    public static Option<int?> InRange(this Option<int?> option, int minimum, int maximum)
    {
        option.Validators.Add(result =>
        {
            if (TryGetValue<int?>(result) is int value && (value < minimum || value > maximum))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{result.IdentifierToken?.Value ?? option.Name} must be between {minimum} and {maximum} (got {value})."));
            }
        });
        return option;
    }

    /// <summary>Adds a validator that requires a number option, when present, to be in a range.</summary>
    public static Option<float?> InRange(this Option<float?> option, float minimum, float maximum, bool inclusiveMinimum)
    {
        option.Validators.Add(result =>
        {
            if (TryGetValue<float?>(result) is float value &&
                (!float.IsFinite(value) || value > maximum || value < minimum || (!inclusiveMinimum && value == minimum)))
            {
                string range = inclusiveMinimum
                    ? string.Create(CultureInfo.InvariantCulture, $"[{minimum}, {maximum}]")
                    : string.Create(CultureInfo.InvariantCulture, $"({minimum}, {maximum}]");
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{result.IdentifierToken?.Value ?? option.Name} must be in {range} (got {value})."));
            }
        });
        return option;
    }

    /// <summary>The option's value, or default when it does not convert (the parser reports that error itself).</summary>
    private static T? TryGetValue<T>(OptionResult result)
    {
        try
        {
            return result.GetValueOrDefault<T>();
        }
        catch (InvalidOperationException)
        {
            return default;
        }
    }

    [GeneratedRegex(@"^(auto|cpu|cuda|cuda:\d{1,3})$", RegexOptions.CultureInvariant)]
    private static partial Regex DevicePattern();
}
