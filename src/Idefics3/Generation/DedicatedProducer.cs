using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Idefics3.Generation;

/// <summary>
/// Runs a synchronous producer (such as a decode loop) on a dedicated thread and hands its items to an asynchronous
/// consumer through a bounded channel, so that <see cref="IAsyncEnumerable{T}"/> consumers never block a thread-pool
/// thread on model work.
/// </summary>
/// <remarks>
/// <para>
/// The producer receives an <c>emit</c> callback and a cancellation token. <c>emit</c> blocks the producer's thread
/// while the buffer is full (back-pressure) and throws <see cref="OperationCanceledException"/> once the stream is
/// cancelled or abandoned. An exception the producer throws reaches the consumer, unchanged, after the items emitted
/// before it. When the consumer's token is cancelled, or the consumer stops enumerating early (disposes the
/// enumerator), the producer's token is cancelled and the enumeration ends only after the producer has returned, so
/// the resources it uses (the model) are free again when disposal completes.
/// </para>
/// </remarks>
internal static class DedicatedProducer
{
    /// <summary>Streams the items of a synchronous producer that runs on its own thread.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="producer">The producer: calls <c>emit</c> per item and should honour the token.</param>
    /// <param name="bufferCapacity">The number of items buffered between producer and consumer, at least 1.</param>
    /// <param name="cancellationToken">Cancels the stream and the producer.</param>
    /// <returns>The items, in the order emitted.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="producer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bufferCapacity"/> is below 1.</exception>
    public static IAsyncEnumerable<T> StreamAsync<T>(Action<Action<T>, CancellationToken> producer, int bufferCapacity = GenerationDefaults.StreamBufferCapacity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(producer);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferCapacity, 1);
        return StreamCoreAsync(producer, bufferCapacity, cancellationToken);
    }

    private static async IAsyncEnumerable<T> StreamCoreAsync<T>(Action<Action<T>, CancellationToken> producer, int bufferCapacity, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken token = cts.Token;
        Channel<T> channel = Channel.CreateBounded<T>(new BoundedChannelOptions(bufferCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        ChannelWriter<T> writer = channel.Writer;

        void Emit(T item)
        {
            token.ThrowIfCancellationRequested();
            if (!writer.TryWrite(item))
            {
                writer.WriteAsync(item, token).AsTask().GetAwaiter().GetResult();
            }
        }

        Task producerTask = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    producer(Emit, token);
                    writer.TryComplete();
                }
#pragma warning disable CA1031 // Every producer failure is handed to the consumer.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    writer.TryComplete(ex);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default);

        try
        {
            ChannelReader<T> reader = channel.Reader;
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (reader.TryRead(out T? item))
                {
                    yield return item;
                }
            }
        }
        finally
        {
            await cts.CancelAsync().ConfigureAwait(false);
            await producerTask.ConfigureAwait(false); // never faults: failures go through the channel
        }
    }
}
