namespace TriggerEngine.Cluster.Timers;

public enum ClockMode { Wall, Event }

/// <summary>
/// The engine's notion of "now" (SPEC 6). Wall-clock mode: the system clock. Event-clock mode: the
/// watermark, i.e. the latest event time seen minus <c>allowedLateness</c>, or where
/// <c>POST /v1/admin/watermark</c> moved it; it never moves backwards.
/// </summary>
/// <param name="watermarkFile">Event-clock mode: where the watermark is kept across restarts (null: not kept).</param>
public sealed class EngineClock(ClockMode mode, TimeProvider time, TimeSpan allowedLateness, string? watermarkFile = null)
{
    private long _watermarkTicks = LoadWatermark(watermarkFile);
    private long _savedAtTicks;
    private readonly object _saveGate = new();

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

    /// <summary>Moves the watermark forward to <paramref name="to"/> and keeps it; false when that would move it back.</summary>
    public bool TryAdvance(DateTimeOffset to)
    {
        if (!Move(to)) return false;
        Save(force: true);
        return true;
    }

    /// <summary>An accepted event's time pushes the watermark to (time − allowed lateness), never back.</summary>
    public void Observe(DateTimeOffset eventTime)
    {
        var candidate = eventTime - AllowedLateness;
        if (candidate.UtcTicks > Interlocked.Read(ref _watermarkTicks) && Move(candidate)) Save(force: false);
    }

    private bool Move(DateTimeOffset to)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _watermarkTicks);
            if (to.UtcTicks < current) return false;
            if (Interlocked.CompareExchange(ref _watermarkTicks, to.UtcTicks, current) == current) return true;
        }
    }

    /// <summary>Written at most once a second from ingestion; at once when an operator moves it.</summary>
    private void Save(bool force)
    {
        if (watermarkFile is null) return;
        var now = time.GetUtcNow().UtcTicks;
        if (!force && now - Interlocked.Read(ref _savedAtTicks) < TimeSpan.TicksPerSecond) return;
        lock (_saveGate)
        {
            Interlocked.Exchange(ref _savedAtTicks, now);
            var tmp = watermarkFile + ".tmp";
            File.WriteAllText(tmp, Interlocked.Read(ref _watermarkTicks).ToString(System.Globalization.CultureInfo.InvariantCulture));
            File.Move(tmp, watermarkFile, overwrite: true);
        }
    }

    private static long LoadWatermark(string? path) =>
        path is not null && File.Exists(path) && long.TryParse(File.ReadAllText(path), out var ticks)
            ? ticks
            : DateTimeOffset.MinValue.UtcTicks;
}
