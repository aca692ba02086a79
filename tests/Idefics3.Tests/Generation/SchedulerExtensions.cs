using Idefics3.Generation;

namespace Idefics3.Tests.Generation;

/// <summary>Runs one awaited piece of work through the scheduler's only entry point, the streaming one.</summary>
internal static class SchedulerExtensions
{
    public static async Task<T> RunAsync<T>(this RequestScheduler scheduler, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
    {
        T result = default!;
        await foreach (T item in scheduler.RunStreamingAsync(token => One(work, token), cancellationToken).ConfigureAwait(false))
        {
            result = item;
        }

        return result;
    }

    private static async IAsyncEnumerable<T> One<T>(Func<CancellationToken, Task<T>> work, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return await work(cancellationToken).ConfigureAwait(false);
    }
}
