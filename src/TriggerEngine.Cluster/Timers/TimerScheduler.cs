using Akka.Actor;
using Akka.Event;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Persistence;

namespace TriggerEngine.Cluster.Timers;

/// <summary>
/// Wakes customers through the shard region when time reaches their next due time: the wall clock
/// (checked every <c>tick</c>), or the event-clock watermark. One per node.
/// <para>Resident customers tell it their next due time after every step, and it keeps those in memory.
/// A customer that stops saves its state first (the state table indexes <c>next_due</c>) and says so with
/// <see cref="CustomerAsleep"/>; from then on the table is the truth for it, read page by page when due.
/// So memory grows with resident customers, never with pending timers.</para>
/// After a start it waits until the ingest log has replayed what the last checkpoint does not cover.
/// </summary>
public sealed class TimerScheduler : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    public const int PageSize = 1_000;

    private readonly SortedSet<(DateTimeOffset Due, string CustomerId)> _queue = new();

    /// <summary>Every row of the state table due by then (Unix ms, the table's unit) has been read once since the
    /// start: the next scan starts after it. Without it every clock move re-read the rows of customers already
    /// woken (their rows change only at their next save): with 1M customers, 20 % of the CPU.</summary>
    private long? _scannedThroughMs;
    private readonly Dictionary<string, DateTimeOffset?> _resident = new();
    private readonly IActorRef _customers;
    private readonly IStateStore _store;
    private readonly EngineClock _clock;
    private readonly TimeSpan _askTimeout;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly IJourneyRules _rules;
    private readonly EngineReadiness _readiness;
    private readonly TimeSpan _tick;
    private readonly MemoryGuard _memory;

    /// <summary>How long a wake-up waits for the heap to come back under its budget before it goes ahead anyway.</summary>
    public static readonly TimeSpan MemoryWait = TimeSpan.FromSeconds(10);

    public ITimerScheduler Timers { get; set; } = null!;
    public IStash Stash { get; set; } = null!;

    public TimerScheduler(IActorRef customers, IStateStore store, EngineClock clock, IJourneyRules rules,
        EngineReadiness readiness, TimeSpan tick, TimeSpan askTimeout, MemoryGuard? memory = null)
    {
        _memory = memory ?? MemoryGuard.Off;
        _customers = customers;
        _store = store;
        _clock = clock;
        _rules = rules;
        _readiness = readiness;
        _tick = tick;
        _askTimeout = askTimeout;
        Recovering();
    }

    private Action? _onRulesChanged;

    protected override void PreStart()
    {
        // Raised on the configuration reload thread: capture Self, there is no actor context there.
        var self = Self;
        _onRulesChanged = () => self.Tell(RearmAllTimers.Instance);
        _rules.Changed += _onRulesChanged;
    }

    protected override void PostStop() => _rules.Changed -= _onRulesChanged;

    /// <summary>Entities report due times; clock moves wait (after a start, until the log has replayed;
    /// after the rules changed, until every customer with a timer has recomputed it).</summary>
    private void Recovering()
    {
        Receive<WakeAt>(w => Set(w.CustomerId, w.Due));
        Receive<CustomerAsleep>(a => Forget(a.CustomerId));
        Receive<RearmAllTimers>(_ => Rearm());
        Receive<LogRecovered>(_ => Run(0));
        Receive<TimersRearmed>(n => Run(n.Customers));
        ReceiveAny(_ => Stash.Stash());
    }

    private void Run(int rearmed)
    {
        if (rearmed > 0) _log.Info("{0} customers recomputed their timers", rearmed);
        _readiness.MarkTimersRecovered();
        if (_clock.Mode == ClockMode.Wall)
            Timers.StartPeriodicTimer("tick", CheckDueTimers.Instance, _tick);
        Become(Running);
        Stash.UnstashAll();
        Self.Tell(CheckDueTimers.Instance);
    }

    /// <summary>New rules may move any customer's due time: every resident customer and every customer the
    /// table has a timer for recomputes it. Customers with no timer under the old rules are not visited.</summary>
    private void Rearm()
    {
        var resident = _resident.Keys.ToArray();
        RearmAsync(resident).PipeTo(Self, success: n => new TimersRearmed(n), failure: _ => new TimersRearmed(0));
    }

    private async Task<int> RearmAsync(string[] resident)
    {
        var count = 0;
        foreach (var chunk in resident.Chunk(PageSize))
            count += (await AdvanceAll(chunk, DateTimeOffset.MinValue)).Count(r => r.Ok);
        await foreach (var page in DuePages(DateTimeOffset.MaxValue))
            count += (await AdvanceAll(page.Select(r => r.Id), DateTimeOffset.MinValue)).Count(r => r.Ok);
        return count;
    }

    /// <summary>The customers whose saved next due time is at or before <paramref name="until"/>, page by page in
    /// (due, id) order.</summary>
    private async IAsyncEnumerable<IReadOnlyList<(string Id, DateTimeOffset Due)>> DuePages(DateTimeOffset until,
        (DateTimeOffset, string)? after = null)
    {
        while (true)
        {
            var page = await _store.DueAsync("c", until, after, PageSize);
            if (page.Count == 0) yield break;
            after = (page[^1].Due, page[^1].Id);
            yield return page;
        }
    }

    /// <summary>Customers asked to advance at once. A page asked all together woke a thousand passivated customers at the
    /// same moment (each loading its state, deciding, and pushing another one out of memory): after a watermark jump
    /// that fires the timers of tens of thousands, that peak is what memory has to hold.</summary>
    public const int MaxAdvancing = 256;

    /// <summary>Asks each customer to fire what is due by <paramref name="until"/> (advancing to the beginning of
    /// time only makes it recompute and report its next due time), <see cref="MaxAdvancing"/> at a time. Touches no
    /// actor state.</summary>
    private async Task<(string Id, DateTimeOffset? NextDue, bool Ok)[]> AdvanceAll(IEnumerable<string> ids, DateTimeOffset until)
    {
        using var gate = new SemaphoreSlim(MaxAdvancing);
        return await Task.WhenAll(ids.Select(async id =>
        {
            await gate.WaitAsync();
            try
            {
                // A watermark that wakes tens of thousands at once is the burst the heap has to hold: slow it down.
                await _memory.WaitWhilePressedAsync(MemoryWait);
                var r = await _customers.Ask<CustomerAdvanced>(new AdvanceCustomer(id, until), _askTimeout);
                return (id, r.NextDue, true);
            }
            catch (Exception ex)
            {
                _log.Warning(ex, "Customer {0} did not confirm its timers; retrying later", id);
                return (id, (DateTimeOffset?)null, false);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private void Running()
    {
        Receive<RearmAllTimers>(_ =>
        {
            Rearm();
            Become(Recovering);
        });
        Receive<WakeAt>(w =>
        {
            Set(w.CustomerId, w.Due);
            if (w.Due is { } due && due <= _clock.Now) Self.Tell(CheckDueTimers.Instance);
        });
        Receive<CustomerAsleep>(a => Forget(a.CustomerId));
        ReceiveAsync<EventTimeObserved>(async o =>
        {
            var sender = Sender;
            _clock.Observe(o.Timestamp);
            // Ingestion does not wait on timers that failed: they stay due for the next move.
            var (woken, _) = await FireDue(_clock.Now);
            sender.Tell(new WatermarkAdvanced(_clock.Watermark, woken));
        });
        ReceiveAsync<CheckDueTimers>(_ => FireDue(_clock.Now).ContinueWith(_ => { }));
        ReceiveAsync<AdvanceWatermark>(async a =>
        {
            var sender = Sender;
            if (_clock.Mode != ClockMode.Event)
            {
                sender.Tell(new WatermarkRejected(_clock.Now, "the engine runs on the wall clock (start it with --clock event)"));
                return;
            }
            if (!_clock.TryAdvance(a.To))
            {
                sender.Tell(new WatermarkRejected(_clock.Watermark, $"the watermark is already at {_clock.Watermark:O}"));
                return;
            }
            var (woken, failed) = await FireDue(a.To, WatermarkAttempts);
            sender.Tell(failed == 0
                ? new WatermarkAdvanced(_clock.Watermark, woken)
                : new WatermarkIncomplete(_clock.Watermark, woken, failed));
        });
    }

    private void Set(string customerId, DateTimeOffset? due)
    {
        if (_resident.TryGetValue(customerId, out var old) && old is { } o) _queue.Remove((o, customerId));
        _resident[customerId] = due;
        if (due is { } d) _queue.Add((d, customerId));
    }

    private void Forget(string customerId)
    {
        // Fell asleep with a timer due where the table is not scanned again: memory keeps it until it fires
        // (the wake-up loads the customer again).
        if (_resident.TryGetValue(customerId, out var due) && due is { } d && d.ToUnixTimeMilliseconds() <= _scannedThroughMs) return;
        if (_resident.Remove(customerId, out var old) && old is { } o) _queue.Remove((o, customerId));
    }

    /// <summary>How often a watermark move tries a customer that did not confirm, a second apart, before it answers that
    /// the move is incomplete. SPEC 6: the move returns once every timer due by then has been evaluated.</summary>
    public const int WatermarkAttempts = 3;

    private static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(1);

    /// <summary>Wakes every customer due by <paramref name="until"/>, resident ones from memory and the others from the
    /// state table, and waits until each has decided. One that fails stays due; the others go on. With more than one
    /// attempt, the failed ones are tried again a second later. Returns how many confirmed and how many did not.</summary>
    private async Task<(int Woken, int Failed)> FireDue(DateTimeOffset until, int attempts = 1)
    {
        var woken = 0;
        for (var attempt = 1; ; attempt++)
        {
            var (fired, failed) = await FireDueOnce(until);
            woken += fired;
            if (failed == 0 || attempt >= attempts) return (woken, failed);
            _log.Warning("{0} customers due by {1:O} did not confirm their timers; trying again", failed, until);
            await Task.Delay(RetryPause);
        }
    }

    private async Task<(int Woken, int Failed)> FireDueOnce(DateTimeOffset until)
    {
        var (woken, failed) = (0, 0);
        // Taken out first: a customer that fails goes back in due, and is tried by the next attempt, not this loop.
        var due = new List<string>();
        while (_queue.Count > 0 && _queue.Min.Due <= until)
        {
            var (d, id) = _queue.Min;
            _queue.Remove((d, id));
            _resident[id] = null;
            due.Add(id);
        }
        foreach (var chunk in due.Chunk(10_000))
        {
            var (f, n) = await Fire(chunk, until);
            (woken, failed) = (woken + f, failed + n);
        }
        var untilMs = until.ToUnixTimeMilliseconds();
        if (untilMs <= _scannedThroughMs) return (woken, failed);
        try
        {
            // Rows up to the last complete scan were read then: start one millisecond after it.
            (DateTimeOffset, string)? after = _scannedThroughMs is { } s ? (DateTimeOffset.FromUnixTimeMilliseconds(s + 1), "") : null;
            await foreach (var page in DuePages(until, after))
            {
                // A resident customer's row may be older than its memory; memory decides for those. One that fails is
                // kept in memory, due, so the scan can go on past it.
                var asleep = page.Where(r => !_resident.ContainsKey(r.Id)).Select(r => r.Id).ToArray();
                var (f, n) = await Fire(asleep, until);
                (woken, failed) = (woken + f, failed + n);
            }
            _scannedThroughMs = untilMs;
        }
        catch (Exception ex)
        {
            // Fire handles its own failures: what lands here is the state table.
            _log.Warning(ex, "Reading due timers failed; the next tick or watermark move retries");
            failed++;
        }
        return (woken, failed);
    }

    private async Task<(int Fired, int Failed)> Fire(string[] ids, DateTimeOffset until)
    {
        if (ids.Length == 0) return (0, 0);
        var replies = await AdvanceAll(ids, until);
        var (fired, failed) = (0, 0);
        foreach (var (id, next, ok) in replies)
        {
            if (!ok)
            {
                // Keep it due; the next attempt, the wall clock tick or the next watermark move retries.
                failed++;
                Set(id, until);
                continue;
            }
            if (next is { } n && _resident.TryGetValue(id, out var cur) && cur is null) Set(id, n);
            fired++;
        }
        return (fired, failed);
    }

    public static Props Props(IActorRef customers, IStateStore store, EngineClock clock, IJourneyRules rules,
        EngineReadiness readiness, TimeSpan tick, TimeSpan askTimeout, MemoryGuard? memory = null) =>
        Akka.Actor.Props.Create(() => new TimerScheduler(customers, store, clock, rules, readiness, tick, askTimeout, memory));
}
