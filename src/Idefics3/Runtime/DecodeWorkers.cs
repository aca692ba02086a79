using System.Diagnostics;

namespace Idefics3.Runtime;

/// <summary>One parallel step: its parts may run on any worker, in any order.</summary>
internal interface IPartsJob
{
    /// <summary>Runs part <paramref name="part"/> of the job.</summary>
    /// <param name="part">0 to the part count given to <see cref="DecodeWorkers.Run"/>, exclusive.</param>
    void Execute(int part);
}

/// <summary>
/// A small persistent parallel-for for the single-token decode step: its own background threads (not the process's
/// thread pool, whose settings it never touches), woken once and then kept spinning for a short while between the
/// back-to-back kernels of one step (no per-call wake-up), going to sleep when the decode loop pauses. The calling
/// thread takes part in every job; parts are claimed dynamically, so a worker that the OS deschedules does not hold the
/// others up for more than one part. Not reentrant: one <see cref="Run"/> at a time (the owner serialises).
/// </summary>
internal sealed class DecodeWorkers : IDisposable
{
    // How long an idle worker spins for the next job before it sleeps: longer than the gap between two kernels of one
    // decode step, shorter than anything a user would notice as a busy core.
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 us

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim _wake = new(0);
    private IPartsJob? _job;
    private int _parts;
    private long _ticket;   // generation << 32 | next part
    private int _pending;   // parts not yet finished
    private int _sleepers;
    private volatile bool _stopping;

    /// <summary>Initializes a new instance of the <see cref="DecodeWorkers"/> class.</summary>
    /// <param name="threads">Threads in all, the caller included (1: everything runs on the caller).</param>
    public DecodeWorkers(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        Threads = threads;
        _threads = new Thread[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"idefics3-decode-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Gets the number of threads, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Runs parts 0..<paramref name="parts"/>-1 of <paramref name="job"/> on every thread and returns when all are done.</summary>
    /// <param name="job">The job.</param>
    /// <param name="parts">The number of parts.</param>
    public void Run(IPartsJob job, int parts)
    {
        if (_threads.Length == 0 || parts <= 1)
        {
            for (int p = 0; p < parts; p++)
            {
                job.Execute(p);
            }

            return;
        }

        _job = job;
        _parts = parts;
        Volatile.Write(ref _pending, parts);
        long generation = (Volatile.Read(ref _ticket) >> 32) + 1;
        Interlocked.Exchange(ref _ticket, generation << 32);
        int sleepers = Interlocked.Exchange(ref _sleepers, 0);
        if (sleepers > 0)
        {
            _wake.Release(sleepers);
        }

        Work(generation, job, parts);
        int spins = 0;
        while (Volatile.Read(ref _pending) != 0)
        {
            if (++spins < 4096)
            {
                Thread.SpinWait(8);
            }
            else
            {
                Thread.Yield();
            }
        }
    }

    private void Work(long generation, IPartsJob job, int parts)
    {
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            int part = (int)(ticket & 0xFFFFFFFF);
            if ((ticket >> 32) != generation || part >= parts)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket)
            {
                continue;
            }

            job.Execute(part);
            Interlocked.Decrement(ref _pending);
        }
    }

    private void WorkerLoop()
    {
        long seen = 0;
        while (!_stopping)
        {
            long start = Stopwatch.GetTimestamp();
            long generation;
            while ((generation = Volatile.Read(ref _ticket) >> 32) == seen)
            {
                if (Stopwatch.GetTimestamp() - start > SpinTicks)
                {
                    Interlocked.Increment(ref _sleepers);
                    if ((Volatile.Read(ref _ticket) >> 32) == seen && !_stopping)
                    {
                        _wake.Wait();
                    }

                    start = Stopwatch.GetTimestamp();
                    if (_stopping)
                    {
                        return;
                    }
                }
                else
                {
                    Thread.SpinWait(8);
                }
            }

            seen = generation;
            IPartsJob? job = _job;
            int parts = _parts;
            if (job is not null)
            {
                Work(generation, job, parts);
            }
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        if (_threads.Length > 0)
        {
            _wake.Release(_threads.Length);
        }

        foreach (Thread t in _threads)
        {
            t.Join();
        }

        _wake.Dispose();
    }
}
