using Idefics3.Generation;

namespace Idefics3.Tests.Generation;

public sealed class DedicatedProducerTests
{
    [Fact]
    public async Task Items_arrive_in_order_from_a_thread_outside_the_pool()
    {
        bool? onPool = null;
        var items = new List<int>();
        await foreach (int item in DedicatedProducer.StreamAsync<int>((emit, ct) =>
        {
            onPool = Thread.CurrentThread.IsThreadPoolThread;
            for (int i = 0; i < 100; i++)
            {
                emit(i);
            }
        }, bufferCapacity: 4))
        {
            items.Add(item);
        }

        Assert.Equal(Enumerable.Range(0, 100), items);
        Assert.False(onPool);
    }

    [Fact]
    public async Task A_producer_exception_reaches_the_consumer_after_earlier_items()
    {
        var items = new List<int>();
        await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (int item in DedicatedProducer.StreamAsync<int>((emit, ct) =>
            {
                emit(1);
                emit(2);
                throw new InvalidDataException("decode failed");
            }))
            {
                items.Add(item);
            }
        });
        Assert.Equal([1, 2], items);
    }

    [Fact]
    public async Task Abandoning_enumeration_cancels_the_producer_and_waits_for_it()
    {
        bool producerSawCancellation = false;
        bool producerReturned = false;
        await foreach (int item in DedicatedProducer.StreamAsync<int>((emit, ct) =>
        {
            try
            {
                for (int i = 0; ; i++)
                {
                    emit(i);
                }
            }
            catch (OperationCanceledException)
            {
                producerSawCancellation = ct.IsCancellationRequested;
            }
            finally
            {
                producerReturned = true;
            }
        }, bufferCapacity: 2))
        {
            if (item == 3)
            {
                break;
            }
        }

        Assert.True(producerSawCancellation);
        Assert.True(producerReturned);
    }

    [Fact]
    public async Task Cancelling_the_token_stops_the_consumer_and_the_producer()
    {
        using var cts = new CancellationTokenSource();
        var producerDone = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new List<int>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (int item in DedicatedProducer.StreamAsync<int>((emit, ct) =>
            {
                emit(1);
                ct.WaitHandle.WaitOne(); // a decode step that only ends on cancellation
                producerDone.SetResult(ct.IsCancellationRequested);
                emit(2);
            }, cancellationToken: cts.Token))
            {
                received.Add(item);
                await cts.CancelAsync();
            }
        });

        Assert.Equal([1], received);
        Assert.True(await producerDone.Task);
    }

    [Fact]
    public async Task A_full_buffer_blocks_the_producer_until_the_consumer_reads()
    {
        int emitted = 0;
        var firstRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IAsyncEnumerable<int> stream = DedicatedProducer.StreamAsync<int>((emit, ct) =>
        {
            for (int i = 0; i < 10; i++)
            {
                emit(i);
                Interlocked.Increment(ref emitted);
            }
        }, bufferCapacity: 1);

        await using IAsyncEnumerator<int> e = stream.GetAsyncEnumerator();
        Assert.True(await e.MoveNextAsync());
        // One item was read, at most one more fits in the buffer and one more may be in flight: never all ten.
        Assert.True(Volatile.Read(ref emitted) <= 3);
        int count = 1;
        while (await e.MoveNextAsync())
        {
            count++;
        }

        Assert.Equal(10, count);
    }
}
