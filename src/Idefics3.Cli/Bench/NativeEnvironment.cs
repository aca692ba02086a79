using System.Runtime.InteropServices;

namespace Idefics3.Cli.Bench;

/// <summary>
/// Sets environment variables in the native process environment (<c>setenv</c>), which is what OpenMP and libtorch
/// read when they initialise. On Unix, <see cref="Environment.SetEnvironmentVariable(string, string)"/> only updates
/// .NET's own copy and never reaches native code.
/// </summary>
internal static partial class NativeEnvironment
{
    /// <summary>Sets <paramref name="name"/> natively unless it is already set (natively or in .NET's copy).</summary>
    /// <returns><see langword="true"/> when this call set the variable.</returns>
    public static bool SetIfUnset(string name, string value)
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            Environment.SetEnvironmentVariable(name, value);
            return true;
        }

        if (Getenv(name) != IntPtr.Zero)
        {
            return false;
        }

        int rc = Setenv(name, value, 0);
        Environment.SetEnvironmentVariable(name, value);
        return rc == 0;
    }

    /// <summary>Reads a variable from the native environment (Unix) or .NET's (Windows).</summary>
    public static string? Get(string name)
    {
        if (OperatingSystem.IsWindows())
        {
            return Environment.GetEnvironmentVariable(name);
        }

        IntPtr p = Getenv(name);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Setenv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr Getenv(string name);
}
