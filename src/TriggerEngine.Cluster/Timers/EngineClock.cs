namespace TriggerEngine.Cluster.Timers;

public enum ClockMode { Wall, Event }

/// <summary>
/// The engine's notion of "now" (SPEC 6). Wall-clock mode: the system clock. Event-clock mode: the
/// watermark, i.e. the latest event time seen minus <c>allowedLateness</c>, or where
/// <c>POST /v1/admin/watermark</c> moved it; it never moves backwards.
/// </summary>
public sealed class EngineClock(ClockMode mode, TimeProvider time, TimeSpan allowedLateness)
{
    private long _watermarkTicks = DateTimeOffset.MinValue.UtcTicks;

    public ClockMode Mode { get; } = mode;
    public TimeSpan AllowedLateness { get; } = allowedLateness;

    /// <summary>Event-clock mode: the watermark (MinValue before any event); wall-clock mode: the wall clock.</summary>
    public DateTimeOffset Now => Mode == ClockMode.Wall ? time.GetUtcNow() : Watermark;

    public DateTimeOffset Watermark => new(Interlocked.Read(ref _watermarkTicks), TimeSpan.Zero);

    /// <summary>What a decision step passes as the wall clock: only live.</summary>
    public DateTimeOffset? WallNow => Mode == ClockMode.Wall ? time.GetUtcNow() : null;

    /// <summary>Server receive time for a call with no timestamp.</summary>
    public DateTimeOffset ReceiveTime => Mode == ClockMode.Wall || Watermark == DateTimeOffset.MinValue
        ? time.GetUtcNow()
        : Watermark;

    /// <summary>Moves the watermark forward to <paramref name="to"/>; false when that would move it back.</summary>
    public bool TryAdvance(DateTimeOffset to)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _watermarkTicks);
            if (to.UtcTicks < current) return false;
            if (Interlocked.CompareExchange(ref _watermarkTicks, to.UtcTicks, current) == current) return true;
        }
    }

    /// <summary>An accepted event's time pushes the watermark to (time − allowed lateness), never back.</summary>
    public void Observe(DateTimeOffset eventTime)
    {
        var candidate = eventTime - AllowedLateness;
        var current = Interlocked.Read(ref _watermarkTicks);
        if (candidate.UtcTicks > current) TryAdvance(candidate);
    }
}
