using System.Runtime.CompilerServices;

namespace Idefics3.Generation;

/// <summary>
/// Runs requests with at most <c>maxConcurrency</c> at a time; the others wait first-in first-out in a queue of
/// at most <see cref="QueueCapacity"/>. Safe to use from any number of threads.
/// </summary>
/// <remarks>
/// <para>
/// A request that finds the queue full fails at once with <see cref="RequestQueueFullException"/>. One that waits
/// longer than <c>queueTimeout</c> fails with <see cref="TimeoutException"/>. One whose token is cancelled
/// while it waits leaves the queue at once (freeing its place) and fails with <see cref="OperationCanceledException"/>.
/// Once running, a request keeps its slot until its work completes; the work's result or exception (cancellation
/// included) reaches the caller unchanged.
/// </para>
/// <para>A slot freed by a finishing request passes directly to the oldest waiter, so later arrivals cannot overtake it.</para>
/// </remarks>
internal sealed class RequestScheduler
{
    private readonly Lock _lock = new();
    private readonly LinkedList<TaskCompletionSource> _queue = new();
    private int _running;

    /// <summary>Initializes a new instance of the <see cref="RequestScheduler"/> class.</summary>
    /// <param name="maxConcurrency">The number of requests that may run at once, at least 1.</param>
    /// <param name="queueCapacity">The number of requests that may wait, at least 0 (0: no waiting, refuse when busy).</param>
    /// <param name="queueTimeout">The longest wait in the queue, positive; null waits without limit.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public RequestScheduler(int maxConcurrency = GenerationDefaults.MaxConcurrency, int queueCapacity = GenerationDefaults.QueueCapacity, TimeSpan? queueTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(queueCapacity);
        if (queueTimeout is { } t && (t <= TimeSpan.Zero || t.TotalMilliseconds > int.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(queueTimeout), queueTimeout, "The queue timeout must be positive and at most int.MaxValue milliseconds (or null for none).");
        }

        MaxConcurrency = maxConcurrency;
        QueueCapacity = queueCapacity;
        QueueTimeout = queueTimeout;
    }

    private int MaxConcurrency { get; }

    private int QueueCapacity { get; }

    private TimeSpan? QueueTimeout { get; }

    /// <summary>Gets the number of requests running now.</summary>
    public int RunningCount
    {
        get
        {
            lock (_lock)
            {
                return _running;
            }
        }
    }

    /// <summary>Gets the number of requests waiting now.</summary>
    public int QueuedCount
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>
    /// Waits for a slot when enumeration starts, holds it while the stream is enumerated and frees it when the
    /// enumeration ends, fails or is abandoned (the enumerator is disposed).
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="work">Produces the stream; receives the enumeration's cancellation token.</param>
    /// <param name="cancellationToken">Cancels the wait and the stream.</param>
    /// <returns>The stream's items.</returns>
    /// <exception cref="RequestQueueFullException">The queue is full.</exception>
    /// <exception cref="TimeoutException">The request waited longer than the queue timeout.</exception>
    /// <exception cref="OperationCanceledException">The enumeration was cancelled.</exception>
    public async IAsyncEnumerable<T> RunStreamingAsync<T>(Func<CancellationToken, IAsyncEnumerable<T>> work, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        await AcquireAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            await foreach (T item in work(cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            Release();
        }
    }

    private async Task AcquireAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource waiter;
        LinkedListNode<TaskCompletionSource> node;
        lock (_lock)
        {
            if (_running < MaxConcurrency && _queue.Count == 0)
            {
                _running++;
                return;
            }

            if (_queue.Count >= QueueCapacity)
            {
                throw new RequestQueueFullException(
                    $"The request queue is full: {_running} request(s) running (MaxConcurrency {MaxConcurrency}) and {_queue.Count} waiting (QueueCapacity {QueueCapacity}). Retry later.");
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _queue.AddLast(waiter);
        }

        using var timeout = QueueTimeout is { } t ? new CancellationTokenSource(t) : null;
        await using (cancellationToken.Register(() => Abandon(node, new OperationCanceledException(cancellationToken))).ConfigureAwait(false))
        await using ((timeout?.Token ?? CancellationToken.None).Register(() => Abandon(node, new TimeoutException(
            $"The request waited longer than the queue timeout ({QueueTimeout}) for one of {MaxConcurrency} slot(s).")))
            .ConfigureAwait(false))
        {
            await waiter.Task.ConfigureAwait(false);
        }
    }

    private void Abandon(LinkedListNode<TaskCompletionSource> node, Exception reason)
    {
        lock (_lock)
        {
            // A waiter that was already granted a slot is no longer in the queue: it keeps the slot and its work
            // observes the cancellation itself.
            if (node.List is null)
            {
                return;
            }

            _queue.Remove(node);
        }

        if (reason is OperationCanceledException oce)
        {
            node.Value.TrySetCanceled(oce.CancellationToken);
        }
        else
        {
            node.Value.TrySetException(reason);
        }
    }

    private void Release()
    {
        TaskCompletionSource? next = null;
        lock (_lock)
        {
            if (_queue.First is { } first)
            {
                _queue.RemoveFirst();
                next = first.Value; // the slot passes on: _running is unchanged
            }
            else
            {
                _running--;
            }
        }

        next?.TrySetResult();
    }
}
