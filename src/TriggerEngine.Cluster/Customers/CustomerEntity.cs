using Akka.Actor;
using Akka.Event;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Cluster.Products;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Ports;

namespace TriggerEngine.Cluster.Customers;

/// <summary>
/// One customer, sharded. Thin by design: folds what the ingest log dispatches through
/// <see cref="CustomerJourney"/>, hands decisions to the outbox, and tells the <see cref="TimerScheduler"/>
/// when to wake it next. Its state is checkpointed by <see cref="CheckpointedEntity"/>.
/// </summary>
public sealed class CustomerEntity : CheckpointedEntity
{
    /// <summary>Events skipped on this node because the core threw on them (a bug; each is logged with its messageId):
    /// the request that carried them was still answered 200. Read by the metrics endpoint.</summary>
    public static long EventsSkipped;

    private CustomerState _state;
    private readonly IJourneyRules _rules;
    private readonly IConsentStore _consents;
    private readonly IDecisionSink _sink;
    private readonly EngineClock _clock;
    private readonly IActorRef _timers;
    private readonly IActorRef _customers;
    private readonly IActorRef _products;
    private readonly TimeSpan _askTimeout;
    private DateTimeOffset? _reportedDue;
    private bool _reported;

    public CustomerEntity(string customerId, IJourneyRules rules, IConsentStore consents, IDecisionSink sink,
        EngineClock clock, StateBatcher store, IActorRef checkpointer, IActorRef timers, IActorRef customers,
        IActorRef products, TimeSpan askTimeout, ResidencyLimit? residency = null)
        : base(EntityKind.Customer, customerId, store, checkpointer, residency)
    {
        _state = new CustomerState(customerId);
        _rules = rules;
        _consents = consents;
        _sink = sink;
        _clock = clock;
        _timers = timers;
        _customers = customers;
        _products = products;
        _askTimeout = askTimeout;
    }

    private string CustomerId => EntityId;

    protected override void Restore(ReadOnlyMemory<byte> state) => _state = StateCodec.DecodeCustomer(CustomerId, state);
    protected override byte[] Encode() => StateCodec.EncodeCustomer(_state);

    /// <summary>Saved and idle: the decoded state goes until the next message (<see cref="CheckpointedEntity.Rest"/>).</summary>
    protected override bool Rest()
    {
        _state = null!;
        return true;
    }

    /// <summary>Rows kept of a customer's decision records: at least the last 100 (SPEC 5, explain).</summary>
    public const int DecisionRowsKept = CustomerState.DecisionLimit;

    /// <summary>
    /// Decision records go out of the state into rows of their own, each written once with the save that follows it
    /// (and the row <see cref="DecisionRowsKept"/> records older deleted). Kept in the state they were re-written with
    /// every save of the customer: a third of its bytes, and most of its encoding.
    /// </summary>
    protected override RowChanges? TakeRowChanges()
    {
        var taken = _state.Decisions;
        if (taken.Count == 0) return null;
        var saves = new List<StoredState>(taken.Count);
        var deletes = new List<(string, string)>(taken.Count);
        var first = _state.DecisionCount - taken.Count;
        for (var i = 0; i < taken.Count; i++)
        {
            var number = first + i;
            saves.Add(new StoredState(OwnedRows.DecisionKind, DecisionRowKey(number), StateCodec.EncodeDecision(taken[i]), 0, null));
            if (number >= DecisionRowsKept) deletes.Add((OwnedRows.DecisionKind, DecisionRowKey(number - DecisionRowsKept)));
        }
        var copy = taken.ToArray();
        taken.Clear();
        return new RowChanges(saves, deletes, [], copy);
    }

    /// <summary>The records of a failed save go back before those made since, for the next save.</summary>
    protected override void RowChangesNotSaved(RowChanges changes)
    {
        _state.Decisions.InsertRange(0, (TriggerDecision[])changes.Taken!);
        var over = _state.Decisions.Count - CustomerState.DecisionLimit;
        if (over > 0) _state.Decisions.RemoveRange(0, over);
    }

    private string DecisionRowKey(long number) => OwnedRows.Key(CustomerId, OwnedRows.DecisionRowId(number));

    /// <summary>The customer's decision records, oldest first: the stored rows, then those not saved yet.</summary>
    private async Task<List<TriggerDecision>> DecisionRecordsAsync()
    {
        var rows = await LoadOwnedRowsAsync(OwnedRows.DecisionKind);
        var records = new List<TriggerDecision>(rows.Count + _state.Decisions.Count);
        foreach (var row in rows) records.Add(StateCodec.DecodeDecision(row.State));
        records.AddRange(_state.Decisions);
        return records.Count > DecisionRowsKept ? records[^DecisionRowsKept..] : records;
    }

    protected override DateTimeOffset? IndexedDue() => NextDue();
    protected override void Loaded() => ReportNextDue();
    protected override void Stopping() => _timers.Tell(new CustomerAsleep(CustomerId));

    protected override bool Handle(object message)
    {
        switch (message)
        {
            case IngestEvents cmd:
                WithConsent(cmd, consent => Ingest(cmd, consent));
                return true;
            case AdvanceCustomer cmd:
                Advance(cmd);
                return true;
            case MergeAnonymousProfile cmd:
                RunTask(() => Merge(cmd));
                return true;
            case HandOverProfile cmd:
                HandOver(cmd);
                return true;
            case ExplainCustomer cmd:
                RunTask(() => Explain(cmd));
                return true;
            case EraseCustomer cmd:
                RunTask(() => Erase(cmd));
                return true;
            case PendingOutput output:
                Record(output);
                return true;
            default:
                return false;
        }
    }

    private JourneyContext Journey(ConsentRecord? consent, DateTimeOffset? wallNow) =>
        new(_rules.Scenarios, _rules.Policy, consent, wallNow);

    /// <summary>Runs <paramref name="step"/> with the consent record the policy sees: at once when the store
    /// has it cached (the usual case), else after the read, with the mailbox held (no thread blocked). A failed read
    /// answers the sender (<see cref="ApplyFailed.Answer"/>: a request is answered 503 at once, and retried) instead of
    /// failing the entity.</summary>
    private void WithConsent(object message, Action<ConsentRecord?> step)
    {
        var pending = _consents.GetAsync(CustomerId);
        if (pending.IsCompletedSuccessfully)
        {
            step(pending.Result);
            return;
        }
        RunTask(async () =>
        {
            ConsentRecord? consent;
            try
            {
                consent = await pending;
            }
            catch (Exception ex)
            {
                Log.Warning("Reading the consent of {0} failed: {1}", CustomerId, ex.Message);
                var cmd = message as IngestEvents;
                Sender.Tell(ApplyFailed.Answer(cmd?.Seq ?? 0, cmd?.ForwardedFrom ?? CustomerId, ex, $"reading consent failed: {ex.Message}"));
                return;
            }
            step(consent);
        });
    }

    private void Ingest(IngestEvents cmd, ConsentRecord? consent)
    {
        var sender = Sender;
        if (_state.MergedInto is { } into)
        {
            // Merged away: the customer it became takes these (and answers the log).
            _customers.Tell(cmd with { CustomerId = into, ForwardedFrom = cmd.ForwardedFrom ?? CustomerId }, sender);
            return;
        }
        if (cmd.ForwardedFrom is null && AlreadyApplied(cmd.Seq))
        {
            sender.Tell(new EventsIngested(CustomerId, 0, cmd.Events.Count, cmd.Seq));
            return;
        }
        var decisions = new List<TriggerDecision>();
        var applied = 0;
        var journey = Journey(consent, cmd.ReceivedAt);
        foreach (var e in cmd.Events)
        {
            if (_state.Seen.Contains(e.MessageId)) continue;
            // A catalog notification for a customer who no longer exists (erased) brings nothing back.
            if (!_state.Exists && e is PriceDropped or BackInStock or ProductFacts) continue;
            JourneyStep step;
            try
            {
                step = CustomerJourney.Handle(_state, e, journey);
            }
            catch (Exception ex)
            {
                // A bug in the core. The events before it and after it are kept; this one is remembered as seen, so
                // that a retry of its request does not fail on it again, and logged with its messageId.
                Log.Error(ex, "Applying {0} {1} to {2} failed; the event is skipped", e.GetType().Name, e.MessageId, CustomerId);
                Interlocked.Increment(ref EventsSkipped);
                _state.Seen.Add(e.MessageId);
                applied++;
                continue;
            }
            if (step.Duplicate) continue;
            applied++;
            decisions.AddRange(step.Decisions);
        }
        if (applied > 0)
        {
            Changed(cmd.Seq);
            ReportNextDue();
        }
        Emit(decisions, sender, new EventsIngested(CustomerId, applied, cmd.Events.Count - applied, cmd.Seq), cmd.ForwardedFrom);
    }

    private void Advance(AdvanceCustomer cmd)
    {
        var due = NextDue();
        if (_state.MergedInto is not null || due is null || due > cmd.Until)
        {
            Sender.Tell(new CustomerAdvanced(CustomerId, ReportNextDue(due)));
            return;
        }
        // Only a customer with something due needs the consent record.
        WithConsent(cmd, consent => AdvanceDue(cmd, consent));
    }

    private void AdvanceDue(AdvanceCustomer cmd, ConsentRecord? consent)
    {
        var sender = Sender;
        var wallNow = _clock.WallNow;
        // Live, a timer never fires ahead of the wall clock.
        var until = wallNow is { } now && now < cmd.Until ? now : cmd.Until;
        var step = CustomerJourney.AdvanceTo(_state, until, Journey(consent, wallNow));
        ChangedOutsideLog();
        Emit(step.Decisions, sender, new CustomerAdvanced(CustomerId, ReportNextDue(step.NextDue)));
    }

    private async Task Merge(MergeAnonymousProfile cmd)
    {
        var sender = Sender;
        if (AlreadyApplied(cmd.Seq))
        {
            // This state holds the merge, the products' saved states may not: a replay moves the interests again
            // (a no-op where it was saved). The products are named in the ack, so the next round saves them.
            var known = _state.InterestProducts.ToArray();
            try
            {
                await MoveInterests(cmd.AnonymousKey, known);
            }
            catch (Exception ex)
            {
                sender.Tell(new ApplyFailed(cmd.Seq, CustomerId, ex.Message));
                return;
            }
            sender.Tell(new EventsIngested(CustomerId, 0, 0, cmd.Seq, null, known));
            return;
        }
        ProfileHandedOver handed;
        string[] products;
        ConsentRecord? consent;
        try
        {
            handed = await _customers.Ask<ProfileHandedOver>(new HandOverProfile(cmd.AnonymousKey, CustomerId), _askTimeout);
            // The products the visitor showed interest in now know the interest as this customer's.
            products = handed.Events.SelectMany(e => ProductInterests.Of(cmd.AnonymousKey, e)).Select(i => i.ProductId)
                .Distinct().ToArray();
            await MoveInterests(cmd.AnonymousKey, products);
            consent = await _consents.GetAsync(CustomerId);
        }
        catch (Exception ex)
        {
            // Safe to retry: the hand-over and the interest moves are idempotent.
            sender.Tell(new ApplyFailed(cmd.Seq, CustomerId, ex.Message));
            return;
        }
        var step = CustomerJourney.Absorb(_state, handed.Events, Journey(consent, _clock.WallNow));
        ChangedByLog(cmd.Seq);
        ReportNextDue(step.NextDue);
        Emit(step.Decisions, sender, new EventsIngested(CustomerId, handed.Events.Count, 0, cmd.Seq,
            [cmd.AnonymousKey], products));
    }

    /// <summary>The products' interests recorded for the anonymous profile become this customer's.</summary>
    private Task MoveInterests(string anonymousKey, IEnumerable<string> products) =>
        Task.WhenAll(products.Select(pid =>
            _products.Ask<ProductAck>(new MergeInterests(pid, anonymousKey, CustomerId), _askTimeout)));

    /// <summary>Idempotent: asked again by the same customer (a replay after a crash), it hands over the same
    /// events again; the customer's dedup memory makes the second absorb a no-op.</summary>
    private void HandOver(HandOverProfile cmd)
    {
        if (cmd.Into == CustomerId || (_state.MergedInto is { } into && into != cmd.Into))
        {
            Sender.Tell(new ProfileHandedOver([]));
            return;
        }
        if (_state.MergedInto is null)
        {
            _state.MergedInto = cmd.Into;
            _state.Exists = true;
            ChangedOutsideLog();
            ReportNextDue(null);
        }
        Sender.Tell(new ProfileHandedOver(_state.AnonymousEvents.ToArray()));
    }

    private async Task Explain(ExplainCustomer _)
    {
        var sender = Sender;
        var consent = await _consents.GetAsync(CustomerId);
        var decisions = await DecisionRecordsAsync();
        var ctx = Journey(consent, null);
        var at = _clock.Mode == ClockMode.Wall ? _clock.Now : _state.LastEventAt is { } l && l > _clock.Now ? l : _clock.Now;
        sender.Tell(new CustomerExplanation(CustomerId, _state.Exists, _state.MergedInto, _state.TimeZone, _state.LastEventAt,
            new Dictionary<string, string>(_state.Traits), _state.History.ToArray(),
            CustomerExplain.ActiveInstances(_state, ctx.Scenarios), CustomerJourney.NextDue(_state, ctx),
            CustomerExplain.Caps(_state, consent, ctx.Policy, at), _state.Sends.ToArray(), decisions));
    }

    private async Task Erase(EraseCustomer _)
    {
        var sender = Sender;
        try
        {
            var records = await LoadOwnedRowsAsync(OwnedRows.DecisionKind);
            await DeleteStateAsync(records.Select(r => (r.Kind, r.Id)).ToArray());
        }
        catch (Exception ex)
        {
            sender.Tell(new Status.Failure(ex));
            return;
        }
        _timers.Tell(new CustomerAsleep(CustomerId));
        sender.Tell(new CustomerErased(CustomerId, _state.InterestProducts.ToArray()));
        // The in-memory state goes with the actor; messages after this start from nothing.
        Context.Stop(Self);
    }

    private DateTimeOffset? NextDue() =>
        _state.MergedInto is null ? CustomerJourney.NextDue(_state, Journey(null, null)) : null;

    private DateTimeOffset? ReportNextDue() => ReportNextDue(NextDue());

    /// <summary>Tells the scheduler the next due time when it changed (none once merged away) and returns it.</summary>
    private DateTimeOffset? ReportNextDue(DateTimeOffset? nextDue)
    {
        var next = _state.MergedInto is null ? nextDue : null;
        if (_reported && next == _reportedDue) return next;
        (_reported, _reportedDue) = (true, next);
        _timers.Tell(new WakeAt(CustomerId, next));
        return next;
    }

    /// <summary>Hands the decisions to the outbox and answers <paramref name="replyTo"/> once it has taken
    /// them, so that whoever waits for this step (HTTP, the watermark) finds its decisions recorded. A failure is
    /// answered in the name of <paramref name="failAs"/> (the profile a forwarded record addressed) or this customer.</summary>
    private void Emit(IReadOnlyList<TriggerDecision> decisions, IActorRef replyTo, object reply, string? failAs = null)
    {
        if (decisions.Count == 0)
        {
            replyTo.Tell(reply);
            return;
        }
        Record(new PendingOutput(decisions, replyTo, reply, 1, failAs ?? CustomerId,
            new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
    }

    /// <summary>
    /// The state already holds the step that made these decisions (a retry of its request finds its events seen, a
    /// timer does not fire twice), so they are not derived again: a failed recording (the outbox's store failing, or
    /// out of memory) is tried again every second until it succeeds, and saves wait meanwhile. Only the first attempt
    /// answers: a failure at once (a request is answered 503 and retried, the scheduler asks again later).
    /// </summary>
    private void Record(PendingOutput output)
    {
        var recording = _sink.WriteAsync(output.Decisions).AsTask();
        // Saves wait for it; a retry in the same instance is already waited for, one in a new instance (the entity was
        // restarted since) starts waiting.
        AwaitRecorded(output.Recorded.Task);
        var (self, log, customerId, scheduler) = (Self, SystemLog, CustomerId, Context.System.Scheduler);
        recording.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully)
            {
                output.Recorded.TrySetResult();
                if (output.Attempt == 1) output.ReplyTo.Tell(output.Reply);
                else log.Info("Recorded {0} decisions of {1} in the outbox at attempt {2}", output.Decisions.Count, customerId, output.Attempt);
                return;
            }
            // Canceled is as unrecorded as faulted.
            var cause = (Exception?)t.Exception ?? new TaskCanceledException("recording the decisions was canceled");
            log.Error(cause, "Recording {0} decisions of {1} in the outbox failed (attempt {2}); trying again in 1 s",
                output.Decisions.Count, customerId, output.Attempt);
            if (output.Attempt == 1)
                output.ReplyTo.Tell(ApplyFailed.Answer(output.Reply is EventsIngested e ? e.Seq : 0, output.FailAs, cause));
            scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(1), self, output with { Attempt = output.Attempt + 1 },
                ActorRefs.NoSender);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default); // not the actor's: see AwaitRecorded
    }

    /// <summary>Decisions on their way to the outbox, whom to answer when the first attempt ends (and in whose name if it
    /// fails), and what completes once an attempt recorded them.</summary>
    private sealed record PendingOutput(IReadOnlyList<TriggerDecision> Decisions, IActorRef ReplyTo, object Reply, int Attempt,
        string FailAs, TaskCompletionSource Recorded);

    public static Props Props(string customerId, IJourneyRules rules, IConsentStore consents, IDecisionSink sink,
        EngineClock clock, StateBatcher store, IActorRef checkpointer, IActorRef timers, IActorRef customers,
        IActorRef products, TimeSpan askTimeout, ResidencyLimit? residency = null) =>
        EntityProducer<CustomerEntity>.Props(() => new CustomerEntity(customerId, rules, consents, sink, clock, store,
            checkpointer, timers, customers, products, askTimeout, residency));
}
