namespace TriggerEngine.Cluster.Timers;

/// <summary>A resident customer's next wake-up (null: none pending). The scheduler holds these in memory
/// for resident customers only.</summary>
public sealed record WakeAt(string CustomerId, DateTimeOffset? Due);

/// <summary>The customer stopped after saving its state: from now on the state table's timer index is the
/// truth about its next wake-up, not the scheduler's memory.</summary>
public sealed record CustomerAsleep(string CustomerId);

/// <summary>The ingest log replayed what the last checkpoint did not cover: timers may fire now.</summary>
public sealed record LogRecovered
{
    public static readonly LogRecovered Instance = new();
}

/// <summary>Event-clock mode: the latest event time an accepted request carried. Answered with
/// <see cref="WatermarkAdvanced"/> once every timer due by the new watermark is decided, so that what a
/// request's events made due is visible when its 200 goes out.</summary>
public sealed record EventTimeObserved(DateTimeOffset Timestamp);

/// <summary>Event-clock mode: move the watermark to <see cref="To"/> and fire everything due by then.</summary>
public sealed record AdvanceWatermark(DateTimeOffset To);

public abstract record WatermarkResult;
public sealed record WatermarkAdvanced(DateTimeOffset Watermark, int CustomersWoken) : WatermarkResult;
public sealed record WatermarkRejected(DateTimeOffset Watermark, string Reason) : WatermarkResult;
/// <summary>The watermark moved, but <paramref name="CustomersNotConfirmed"/> customers due by then did not confirm their
/// timers (or the timer table could not be read): they stay due, and moving to the same instant again retries them.</summary>
public sealed record WatermarkIncomplete(DateTimeOffset Watermark, int CustomersWoken, int CustomersNotConfirmed) : WatermarkResult;

/// <summary>Wall-clock mode: look for due timers.</summary>
public sealed record CheckDueTimers
{
    public static readonly CheckDueTimers Instance = new();
}

/// <summary>The walk over every customer (after a start, or after the rules changed) is done.</summary>
public sealed record TimersRearmed(int Customers);

/// <summary>The scenario or policy rules changed: every customer's due time may have moved.</summary>
public sealed record RearmAllTimers
{
    public static readonly RearmAllTimers Instance = new();
}

