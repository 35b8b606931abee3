using Akka.Actor;
using Akka.Event;
using TriggerEngine.Cluster.Customers;

namespace TriggerEngine.Cluster.Timers;

/// <summary>
/// Knows every customer's next wake-up and wakes them through the shard region when time reaches it:
/// the wall clock (checked every <c>tick</c>), or the event-clock watermark. One per node; entities tell
/// it their next due time after every step.
/// </summary>
/// After a start it first re-arms every customer from the journal (see <see cref="TimerRecovery"/>),
/// holding back clock moves until then, so that no timer due by a watermark is missed.
public sealed class TimerScheduler : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    private readonly SortedSet<(DateTimeOffset Due, string CustomerId)> _queue = new();
    private readonly Dictionary<string, DateTimeOffset> _dueByCustomer = new();
    private readonly IActorRef _customers;
    private readonly EngineClock _clock;
    private readonly TimeSpan _askTimeout;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly IJourneyRules _rules;
    private readonly EngineReadiness _readiness;
    private readonly TimeSpan _tick;

    public ITimerScheduler Timers { get; set; } = null!;
    public IStash Stash { get; set; } = null!;

    public TimerScheduler(IActorRef customers, EngineClock clock, IJourneyRules rules, EngineReadiness readiness,
        TimeSpan tick, TimeSpan askTimeout)
    {
        _customers = customers;
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
        Rearm();
    }

    protected override void PostStop() => _rules.Changed -= _onRulesChanged;

    private void Rearm() =>
        TimerRecovery.WalkAllCustomers(Context.System, _customers, _askTimeout)
            .PipeTo(Self, success: n => new TimersRearmed(n), failure: _ => new TimersRearmed(0));

    /// <summary>Entities report due times; clock moves wait until every customer has reported (after a
    /// start, or after the rules changed).</summary>
    private void Recovering()
    {
        Receive<WakeAt>(w => Set(w.CustomerId, w.Due));
        Receive<RearmAllTimers>(_ => Rearm());
        Receive<TimersRearmed>(n =>
        {
            _log.Info("{0} customers re-armed their timers", n.Customers);
            _readiness.MarkTimersRecovered();
            if (_clock.Mode == ClockMode.Wall)
                Timers.StartPeriodicTimer("tick", CheckDueTimers.Instance, _tick);
            Become(Running);
            Stash.UnstashAll();
            Self.Tell(CheckDueTimers.Instance);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Running()
    {
        // New rules may move any customer's due time: hold clock moves until every customer has re-reported.
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
        ReceiveAsync<EventTimeObserved>(async o =>
        {
            var sender = Sender;
            _clock.Observe(o.Timestamp);
            var woken = await FireDue(_clock.Now);
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
            var woken = await FireDue(a.To);
            sender.Tell(new WatermarkAdvanced(_clock.Watermark, woken));
        });
    }

    private void Set(string customerId, DateTimeOffset? due)
    {
        if (_dueByCustomer.Remove(customerId, out var old)) _queue.Remove((old, customerId));
        if (due is not { } d) return;
        _dueByCustomer[customerId] = d;
        _queue.Add((d, customerId));
    }

    /// <summary>Wakes every customer due by <paramref name="until"/> and waits until each has decided.</summary>
    private async Task<int> FireDue(DateTimeOffset until)
    {
        var woken = 0;
        while (_queue.Count > 0 && _queue.Min.Due <= until)
        {
            var due = new List<string>();
            while (_queue.Count > 0 && _queue.Min.Due <= until && due.Count < 10_000)
            {
                var (d, id) = _queue.Min;
                _queue.Remove((d, id));
                _dueByCustomer.Remove(id);
                due.Add(id);
            }
            var replies = due.Select(async id =>
            {
                try
                {
                    var r = await _customers.Ask<CustomerAdvanced>(new AdvanceCustomer(id, until), _askTimeout);
                    return (id, r.NextDue, ok: true);
                }
                catch (Exception ex)
                {
                    _log.Warning(ex, "Customer {0} did not confirm its timers; retrying later", id);
                    return (id, NextDue: (DateTimeOffset?)null, ok: false);
                }
            }).ToArray();
            var failed = false;
            foreach (var (id, next, ok) in await Task.WhenAll(replies))
            {
                if (!ok) { failed = true; continue; }
                if (next is { } n && !_dueByCustomer.ContainsKey(id)) Set(id, n);
                woken++;
            }
            if (failed)
            {
                // Keep them due; the wall clock tick or the next watermark move retries.
                foreach (var (id, _, ok) in replies.Select(t => t.Result).Where(r => !r.ok)) Set(id, until);
                break;
            }
        }
        return woken;
    }

    public static Props Props(IActorRef customers, EngineClock clock, IJourneyRules rules, EngineReadiness readiness,
        TimeSpan tick, TimeSpan askTimeout) =>
        Akka.Actor.Props.Create(() => new TimerScheduler(customers, clock, rules, readiness, tick, askTimeout));
}
