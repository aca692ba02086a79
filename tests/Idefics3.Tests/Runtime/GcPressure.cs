namespace Idefics3.Tests.Runtime;

/// <summary>
/// Forces garbage collections and finalizers on a background thread for as long as it lives, so that any TorchSharp
/// handle (a <c>Scalar</c>, a temporary tensor) left to the finalizer on the code under test is freed while native code may
/// still read it.
/// </summary>
internal sealed class GcPressure : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public GcPressure()
    {
        _thread = new Thread(() =>
        {
            while (!_stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Collections++;
            }
        })
        { IsBackground = true, Name = "gc-pressure" };
        _thread.Start();
    }

    /// <summary>Gets how many collections the thread has forced so far.</summary>
    public long Collections { get; private set; }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
    }
}
