using BitMiracle.LibTiff.Classic;

namespace Idefics3.Imaging;

/// <summary>
/// Routes libtiff's error and warning messages raised on a thread that is inside <see cref="TiffImageDecoder"/> to that
/// call's <see cref="Collector"/> instead of the console. LibTiff.NET has only a library-wide handler: it is installed
/// once, on first TIFF use, and forwards every message from other code to the handler that was there before, so other
/// users of LibTiff.NET in the same process see no change.
/// </summary>
internal static class TiffMessages
{
    [ThreadStatic]
    private static Collector? t_current;

    private static readonly Lazy<bool> Installed = new(() =>
    {
        var handler = new RoutingHandler();
        handler.Previous = Tiff.SetErrorHandler(handler);
        return true;
    });

    /// <summary>Installs the routing handler if it is not installed yet.</summary>
    public static void EnsureInstalled() => _ = Installed.Value;

    /// <summary>Starts collecting this thread's libtiff messages until the collector is disposed.</summary>
    public static Collector Collect()
    {
        var collector = new Collector(t_current);
        t_current = collector;
        return collector;
    }

    /// <summary>The messages of one decoder call.</summary>
    internal sealed class Collector : IDisposable
    {
        private readonly Collector? _outer;

        internal Collector(Collector? outer) => _outer = outer;

        /// <summary>Gets the first error message, if any.</summary>
        public string? First { get; private set; }

        /// <summary>Records an error message (only the first is kept).</summary>
        public void Error(string message) => First ??= message;

        /// <inheritdoc/>
        public void Dispose() => t_current = _outer;
    }

    private sealed class RoutingHandler : TiffErrorHandler
    {
        public TiffErrorHandler? Previous { get; set; }

        public override void ErrorHandler(Tiff tif, string method, string format, params object[] args)
        {
            if (t_current is { } collector)
            {
                collector.Error($"{method}: {Format(format, args)}");
            }
            else
            {
                Previous?.ErrorHandler(tif, method, format, args);
            }
        }

        public override void ErrorHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args)
        {
            if (t_current is null)
            {
                Previous?.ErrorHandlerExt(tif, clientData, method, format, args);
            }
        }

        public override void WarningHandler(Tiff tif, string method, string format, params object[] args)
        {
            // Warnings on a decoder thread are ignored (Pillow ignores libtiff warnings too).
            if (t_current is null)
            {
                Previous?.WarningHandler(tif, method, format, args);
            }
        }

        public override void WarningHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args)
        {
            if (t_current is null)
            {
                Previous?.WarningHandlerExt(tif, clientData, method, format, args);
            }
        }

        private static string Format(string format, object[] args)
        {
            try
            {
                return string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args);
            }
            catch (FormatException)
            {
                return format;
            }
        }
    }
}
