namespace Idefics3.Generation;

/// <summary>The phases of one request, in milliseconds, filled in by the session as they end.</summary>
internal sealed class RequestTimes
{
    public double QueueMilliseconds { get; init; }

    public double VisionMilliseconds { get; set; }

    public double PrefillMilliseconds { get; set; }

    public double TimeToFirstTokenMilliseconds { get; set; }

    public double DecodeMilliseconds { get; set; }
}
