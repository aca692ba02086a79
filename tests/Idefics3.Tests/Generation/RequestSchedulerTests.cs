using Idefics3.Generation;

namespace Idefics3.Tests.Generation;

public sealed class RequestSchedulerTests
{
    private static async Task WaitUntil(Func<bool> condition)
    {
        // Polls state, not time: the loop ends as soon as the condition holds (the test runner's timeout bounds it).
        while (!condition())
        {
            await Task.Yield();
            await Task.Delay(1);
        }
    }

    [Fact]
    public async Task Never_runs_more_than_max_concurrency_at_once()
    {
        var scheduler = new RequestScheduler(maxConcurrency: 2, queueCapacity: 10);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int running = 0, peak = 0;

        async Task<int> Work(CancellationToken ct)
        {
            int now = Interlocked.Increment(ref running);
            lock (gate)
            {
                peak = Math.Max(peak, now);
            }

            await gate.Task;
            Interlocked.Decrement(ref running);
            return now;
        }

        Task<int>[] tasks = Enumerable.Range(0, 6).Select(_ => scheduler.RunAsync(Work)).ToArray();
        await WaitUntil(() => scheduler.RunningCount == 2 && scheduler.QueuedCount == 4);
        Assert.Equal(2, Volatile.Read(ref running));
        gate.SetResult();
        await Task.WhenAll(tasks);

        Assert.Equal(2, peak);
        Assert.Equal(0, scheduler.RunningCount);
        Assert.Equal(0, scheduler.QueuedCount);
    }

    [Fact]
    public async Task Queued_requests_start_in_arrival_order()
    {
        var scheduler = new RequestScheduler(maxConcurrency: 1, queueCapacity: 10);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new List<int>();
        Task first = scheduler.RunAsync(async _ => { await gate.Task; return 0; });
        var queued = new List<Task<int>>();
        for (int i = 1; i <= 5; i++)
        {
            int id = i;
            queued.Add(scheduler.RunAsync(_ => { lock (order) { order.Add(id); } return Task.FromResult(id); }));
        }

        gate.SetResult();
        await first;
        await Task.WhenAll(queued);
        Assert.Equal([1, 2, 3, 4, 5], order);
    }

    [Fact]
    public async Task A_full_queue_refuses_with_a_clear_exception()
    {
        var scheduler = new RequestScheduler(maxConcurrency: 1, queueCapacity: 1);
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> running = scheduler.RunAsync(_ => gate.Task);
        Task<int> waiting = scheduler.RunAsync(_ => Task.FromResult(2));

        var ex = await Assert.ThrowsAsync<RequestQueueFullException>(() => scheduler.RunAsync(_ => Task.FromResult(3)));
        Assert.Contains("QueueCapacity 1", ex.Message, StringComparison.Ordinal);

        gate.SetResult(1);
        Assert.Equal(1, await running);
        Assert.Equal(2, await waiting);
    }

    [Fact]
    public async Task Cancelling_a_queued_request_removes_it_and_frees_its_place()
    {
        var scheduler = new RequestScheduler(maxConcurrency: 1, queueCapacity: 1);
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> running = scheduler.RunAsync(_ => gate.Task);
        using var cts = new CancellationTokenSource();
        bool cancelledWorkRan = false;
        Task<int> queued = scheduler.RunAsync(_ => { cancelledWorkRan = true; return Task.FromResult(-1); }, cts.Token);
        Assert.Equal(1, scheduler.QueuedCount);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.Equal(0, scheduler.QueuedCount);

        Task<int> replacement = scheduler.RunAsync(_ => Task.FromResult(7)); // the freed place is usable
        gate.SetResult(1);
        Assert.Equal(1, await running);
        Assert.Equal(7, await replacement);
        Assert.False(cancelledWorkRan);
    }

    [Fact]
    public async Task An_already_cancelled_token_fails_without_running_the_work()
    {
        var scheduler = new RequestScheduler();
        bool ran = false;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => scheduler.RunAsync(_ => { ran = true; return Task.FromResult(0); }, new CancellationToken(true)));
        Assert.False(ran);
        Assert.Equal(0, scheduler.RunningCount);
    }

    [Fact]
    public async Task Exceptions_from_the_work_reach_the_caller_and_free_the_slot()
    {
        var scheduler = new RequestScheduler(maxConcurrency: 1, queueCapacity: 0);
        await Assert.ThrowsAsync<InvalidDataException>(() => scheduler.RunAsync<int>(_ => throw new InvalidDataException("boom")));
        await Assert.ThrowsAsync<FormatException>(async () => await scheduler.RunAsync<int>(async _ =>
        {
            await Task.Yield();
            throw new FormatException();
        }));
        Assert.Equal(5, await scheduler.RunAsync(_ => Task.FromResult(5)));
    }

    [Fact]
    public async Task Waiting_longer_than_the_queue_timeout_fails_with_a_timeout_exception()
    {
        var scheduler = new RequestScheduler(maxConcurrency: 1, queueCapacity: 4, queueTimeout: TimeSpan.FromMilliseconds(20));
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> running = scheduler.RunAsync(_ => gate.Task);

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => scheduler.RunAsync(_ => Task.FromResult(2)));
        Assert.Contains("queue timeout", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, scheduler.QueuedCount);
        gate.SetResult(1);
        await running;
    }

    [Fact]
    public async Task A_streaming_request_holds_its_slot_until_enumeration_ends()
    {
        var scheduler = new RequestScheduler(maxConcurrency: 1, queueCapacity: 4);

        static async IAsyncEnumerable<int> Items([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
        {
            for (int i = 0; i < 3; i++)
            {
                await Task.Yield();
                yield return i;
            }
        }

        await using (IAsyncEnumerator<int> e = scheduler.RunStreamingAsync(Items).GetAsyncEnumerator())
        {
            Assert.True(await e.MoveNextAsync());
            Assert.Equal(1, scheduler.RunningCount);
            Task<int> other = scheduler.RunAsync(_ => Task.FromResult(9));
            Assert.False(other.IsCompleted);
            Assert.Equal(1, scheduler.QueuedCount);
            await e.DisposeAsync(); // abandoned early: the slot passes on
            Assert.Equal(9, await other);
        }

        var all = new List<int>();
        await foreach (int item in scheduler.RunStreamingAsync(Items))
        {
            all.Add(item);
        }

        Assert.Equal([0, 1, 2], all);
        Assert.Equal(0, scheduler.RunningCount);
    }

    [Fact]
    public async Task Many_threads_submitting_at_once_all_complete_within_the_limit()
    {
        var scheduler = new RequestScheduler(maxConcurrency: 3, queueCapacity: 1000);
        int running = 0, peak = 0;
        Task<int>[] tasks = Enumerable.Range(0, 200).Select(i => Task.Run(() => scheduler.RunAsync(async _ =>
        {
            int now = Interlocked.Increment(ref running);
            int seen;
            do
            {
                seen = Volatile.Read(ref peak);
            }
            while (now > seen && Interlocked.CompareExchange(ref peak, now, seen) != seen);

            await Task.Yield();
            Interlocked.Decrement(ref running);
            return i;
        }))).ToArray();

        int[] results = await Task.WhenAll(tasks);
        Assert.Equal(Enumerable.Range(0, 200), results);
        Assert.True(peak <= 3);
    }
}
