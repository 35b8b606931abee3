using Akka.Actor;

namespace TriggerEngine.Cluster.Entities;

/// <summary>
/// The engine's own bound on its heap, so that a burst slows it down instead of running it out of memory. A runtime heap
/// limit (<c>DOTNET_GCHeapHardLimit</c>) is a cliff: past it an allocation fails wherever it happens, and at the limit
/// the runtime ends the process (perf/README, ninth pass). The guard keeps the heap under a budget below it.
/// <para>Every <see cref="Check"/> (a timer calls it a few times a second) reads the heap in use after the last garbage
/// collection. Over the budget, the guard is <see cref="Pressed"/>: ingestion answers 503 with Retry-After, the timer
/// scheduler waits before waking more customers, and the residency limit in force is lowered a step (the least recently
/// used entities save their state and leave), once per collection: a reading is only as new as the last collection, and
/// lowering again on the same one evicted far more than needed (down to 35 % of the limit in a 10M replay). When no
/// collection comes while it presses, it asks for one (<see cref="StaleChecksBeforeCollect"/>). Back under 90 % of the
/// budget it lets go, and the residency limit climbs back a smaller step per check, up to the configured one.</para>
/// </summary>
public sealed class MemoryGuard : IDisposable
{
    /// <summary>Share of the memory the runtime may use (its heap limit when one is set, else the machine's) that the heap
    /// is kept under by default.</summary>
    public const int DefaultBudgetPercent = 80;

    /// <summary>Each collection that leaves the heap over budget lowers the residency limit by this share of the configured
    /// one...</summary>
    private const double ShrinkStep = 0.05;
    /// <summary>...down to this share at most: the entities left resident are those in use.</summary>
    private const double ShrinkFloor = 0.25;
    /// <summary>Each check under budget raises it by this share.</summary>
    private const double GrowStep = 0.01;

    /// <summary>Checks in a row, while pressed, that saw no new collection before the guard asks for one. Pressed, the
    /// engine takes no new work and wake-ups wait, so little is allocated and no collection may come for a long time:
    /// the reading would stay over budget, and every wake-up would wait its full 10 s (a 10M replay's final watermark
    /// took 171 s instead of 40 s).</summary>
    public const int StaleChecksBeforeCollect = 4;

    private readonly Func<(long Bytes, long Collection)> _heapInUse;
    private readonly Action _collect;
    private long _lastShrunkAt = -1;
    private int _staleChecks;
    private readonly ResidencyLimit? _residency;
    private readonly Action<string>? _log;
    private readonly Timer? _timer;
    private volatile bool _pressed;
    /// <summary>A timer's callbacks may overlap (a check delayed past the next tick by a collection's pause).</summary>
    private readonly Lock _checking = new();

    /// <param name="budgetBytes">Heap bytes in use above which the guard presses; 0 or less: never.</param>
    /// <param name="heapInUse">The reading and the collection it comes from; by default <see cref="HeapInUseAfterLastGc"/>.</param>
    /// <param name="interval">How often to check; none: only when <see cref="Check"/> is called.</param>
    /// <param name="collect">Asks for a collection; by default a full background one (no long pause).</param>
    public MemoryGuard(long budgetBytes, ResidencyLimit? residency, Func<(long Bytes, long Collection)>? heapInUse = null, TimeSpan? interval = null,
        Action<string>? log = null, Action? collect = null)
    {
        _collect = collect ?? (() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false));
        Budget = budgetBytes;
        _residency = residency;
        _heapInUse = heapInUse ?? HeapInUseAfterLastGc;
        _log = log;
        if (budgetBytes > 0 && interval is { } every) _timer = new Timer(_ => Check(), null, every, every);
    }

    /// <summary>The guard that never presses.</summary>
    public static MemoryGuard Off { get; } = new(0, null);

    public long Budget { get; }

    /// <summary>The heap is over its budget: take no new work that can wait.</summary>
    public bool Pressed => _pressed;

    /// <summary><paramref name="percent"/> of what the runtime may use: its heap limit if one is set, else the machine's memory
    /// (or the container's limit).</summary>
    public static long BudgetOf(int percent) =>
        percent <= 0 ? 0 : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 100 * percent;

    /// <summary>Heap size after the last collection, less its free space (what is live, plus garbage in generations that
    /// collection did not visit), and that collection's number.</summary>
    public static (long Bytes, long Collection) HeapInUseAfterLastGc()
    {
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        return (info.HeapSizeBytes - info.FragmentedBytes, info.Index);
    }

    /// <summary>One look at the heap, and the residency step that follows from it; returns the entities asked to leave.</summary>
    public int Check()
    {
        if (Budget <= 0) return 0;
        lock (_checking) return CheckLocked();
    }

    private int CheckLocked()
    {
        var (heap, collection) = _heapInUse();
        if (!_pressed && heap > Budget)
        {
            _pressed = true;
            _log?.Invoke($"Heap in use {heap / 1_048_576} MB is over the budget of {Budget / 1_048_576} MB: ingestion answers 503 and idle entities leave memory until it is back under {Budget / 1_048_576 * 9 / 10} MB");
        }
        else if (_pressed && heap < Budget / 10 * 9)
        {
            _pressed = false;
            _log?.Invoke($"Heap in use {heap / 1_048_576} MB is back under budget; residency limit {_residency?.Current} (configured {_residency?.Configured})");
        }
        if (_residency is not { Configured: > 0 } residency) return 0;
        if (!_pressed)
        {
            residency.RaiseTo(residency.Current + Step(residency, GrowStep));
            return 0;
        }
        if (collection == _lastShrunkAt)
        {
            if (++_staleChecks < StaleChecksBeforeCollect) return 0;
            _staleChecks = 0;
            _collect();
            return 0;
        }
        (_lastShrunkAt, _staleChecks) = (collection, 0);
        var floor = (int)(residency.Configured * ShrinkFloor);
        var victims = residency.LowerTo(Math.Max(floor, residency.Current - Step(residency, ShrinkStep)));
        foreach (var victim in victims) victim.Tell(PassivateForRoom.Instance);
        return victims.Count;
    }

    private static int Step(ResidencyLimit residency, double share) => Math.Max(1, (int)(residency.Configured * share));

    /// <summary>Waits while the guard presses, <paramref name="atMost"/> in all: work that can wait (a timer wake-up) gives
    /// the collector and the evictions time, but is never held back for good.</summary>
    public async Task WaitWhilePressedAsync(TimeSpan atMost)
    {
        var waited = TimeSpan.Zero;
        var pause = TimeSpan.FromMilliseconds(50);
        while (_pressed && waited < atMost)
        {
            await Task.Delay(pause).ConfigureAwait(false);
            waited += pause;
        }
    }

    public void Dispose() => _timer?.Dispose();
}
