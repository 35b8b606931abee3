using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
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
/// One customer, sharded. Thin by design: it persists what it is given (with the consent record the
/// policy will see), folds it through <see cref="CustomerJourney"/>, hands decisions to the sinks and
/// tells the <see cref="TimerScheduler"/> when to wake it next.
/// </summary>
public sealed class CustomerEntity : ReceivePersistentActor
{
    private readonly CustomerState _state;
    private readonly IJourneyRules _rules;
    private readonly IConsentStore _consents;
    private readonly IDecisionSink _sink;
    private readonly EngineClock _clock;
    private readonly IActorRef _timers;
    private readonly IActorRef _customers;
    private readonly IActorRef _products;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public override string PersistenceId { get; }

    public CustomerEntity(string customerId, IJourneyRules rules, IConsentStore consents, IDecisionSink sink,
        EngineClock clock, IActorRef timers, IActorRef customers, IActorRef products)
    {
        PersistenceId = "customer-" + customerId;
        _state = new CustomerState(customerId);
        _rules = rules;
        _consents = consents;
        _sink = sink;
        _clock = clock;
        _timers = timers;
        _customers = customers;
        _products = products;

        Recover<ICustomerJournalEvent>(e => Apply(e));
        Recover<RecoveryCompleted>(_ => ReportNextDue());

        CommandAsync<IngestEvents>(Ingest);
        CommandAsync<AdvanceCustomer>(Advance);
        CommandAsync<MergeAnonymousProfile>(Merge);
        Command<HandOverProfile>(HandOver);
        CommandAsync<ExplainCustomer>(Explain);
        Command<EraseCustomer>(Erase);
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Error(f.Cause, "Erasing snapshots of {0} failed", PersistenceId));
    }

    private string CustomerId => _state.CustomerId;

    private JourneyContext Journey(ConsentRecord? consent, DateTimeOffset? wallNow) =>
        new(_rules.Scenarios, _rules.Policy, consent, wallNow);

    private async Task Ingest(IngestEvents cmd)
    {
        if (_state.MergedInto is { } into)
        {
            _customers.Forward(new IngestEvents(into, cmd.Events));
            return;
        }
        var fresh = new List<CustomerEvent>(cmd.Events.Count);
        var batchIds = new HashSet<string>();
        foreach (var e in cmd.Events)
        {
            if (_state.Seen.Contains(e.MessageId) || !batchIds.Add(e.MessageId)) continue;
            // A catalog notification for a customer who no longer exists (erased) brings nothing back.
            if (!_state.Exists && e is PriceDropped or BackInStock or ProductFacts) continue;
            fresh.Add(e);
        }
        var sender = Sender;
        var duplicates = cmd.Events.Count - fresh.Count;
        if (fresh.Count == 0)
        {
            sender.Tell(new EventsIngested(CustomerId, 0, duplicates));
            return;
        }
        var consent = await _consents.GetAsync(CustomerId);
        var wallNow = _clock.WallNow;
        var records = fresh.Select(e => new CustomerEventRecorded(e, consent, wallNow)).ToArray();
        var decisions = new List<TriggerDecision>();
        var done = 0;
        PersistAll(records, r =>
        {
            decisions.AddRange(Apply(r));
            if (++done < records.Length) return;
            ReportNextDue();
            Emit(decisions, sender, new EventsIngested(CustomerId, fresh.Count, duplicates));
        });
    }

    private async Task Advance(AdvanceCustomer cmd)
    {
        var sender = Sender;
        var due = CustomerJourney.NextDue(_state, Journey(null, null));
        if (_state.MergedInto is not null || due is null || due > cmd.Until)
        {
            sender.Tell(new CustomerAdvanced(CustomerId, ReportNextDue(due)));
            return;
        }
        var consent = await _consents.GetAsync(CustomerId);
        var wallNow = _clock.WallNow;
        // Live, a timer never fires ahead of the wall clock.
        var until = wallNow is { } now && now < cmd.Until ? now : cmd.Until;
        Persist(new CustomerTimeAdvanced(until, consent, wallNow), r =>
        {
            var decisions = Apply(r);
            Emit(decisions, sender, new CustomerAdvanced(CustomerId, ReportNextDue()));
        });
    }

    private async Task Merge(MergeAnonymousProfile cmd)
    {
        var sender = Sender;
        ProfileHandedOver handed;
        try
        {
            handed = await _customers.Ask<ProfileHandedOver>(new HandOverProfile(cmd.AnonymousKey, CustomerId),
                TimeSpan.FromSeconds(30));
            // The products the visitor showed interest in now know the interest as this customer's.
            await Task.WhenAll(handed.Events.SelectMany(e => ProductInterests.Of(cmd.AnonymousKey, e)).Select(i => i.ProductId)
                .Distinct().Select(pid => _products.Ask<ProductAck>(new MergeInterests(pid, cmd.AnonymousKey, CustomerId),
                    TimeSpan.FromSeconds(30))));
        }
        catch (Exception ex)
        {
            sender.Tell(new Status.Failure(ex));
            return;
        }
        var consent = await _consents.GetAsync(CustomerId);
        var wallNow = _clock.WallNow;
        Persist(new AnonymousProfileAbsorbed(cmd.AnonymousKey, handed.Events, consent, wallNow), r =>
        {
            var decisions = Apply(r);
            ReportNextDue();
            Emit(decisions, sender, new EventsIngested(CustomerId, handed.Events.Count, 0));
        });
    }

    private void HandOver(HandOverProfile cmd)
    {
        var sender = Sender;
        if (_state.MergedInto is not null || cmd.Into == CustomerId)
        {
            sender.Tell(new ProfileHandedOver([]));
            return;
        }
        var events = _state.AnonymousEvents.ToArray();
        Persist(new ProfileMergedInto(cmd.Into), r =>
        {
            Apply(r);
            _timers.Tell(new WakeAt(CustomerId, null));
            sender.Tell(new ProfileHandedOver(events));
        });
    }

    private async Task Explain(ExplainCustomer _)
    {
        var sender = Sender;
        var consent = await _consents.GetAsync(CustomerId);
        var ctx = Journey(consent, null);
        var at = _clock.Mode == ClockMode.Wall ? _clock.Now : _state.LastEventAt is { } l && l > _clock.Now ? l : _clock.Now;
        sender.Tell(new CustomerExplanation(CustomerId, _state.Exists, _state.MergedInto, _state.TimeZone, _state.LastEventAt,
            new Dictionary<string, string>(_state.Traits), _state.History.ToArray(),
            CustomerExplain.ActiveInstances(_state, ctx.Scenarios), CustomerJourney.NextDue(_state, ctx),
            CustomerExplain.Caps(_state, consent, ctx.Policy, at), _state.Sends.ToArray(), _state.Decisions.ToArray()));
    }

    private void Erase(EraseCustomer _)
    {
        var sender = Sender;
        _timers.Tell(new WakeAt(CustomerId, null));
        DeleteSnapshots(SnapshotSelectionCriteria.Latest);
        if (LastSequenceNr == 0)
        {
            Erased(sender);
            return;
        }
        // Reply only once the rows are gone, so that nothing can recover the customer afterwards.
        DeleteMessages(LastSequenceNr);
        Become(() =>
        {
            Command<DeleteMessagesSuccess>(_ => Erased(sender));
            Command<DeleteMessagesFailure>(f =>
            {
                _log.Error(f.Cause, "Erasing {0} failed", PersistenceId);
                sender.Tell(new Status.Failure(f.Cause));
                Context.Stop(Self);
            });
            CommandAny(_ => Stash.Stash());
        });
    }

    private void Erased(IActorRef replyTo)
    {
        replyTo.Tell(new CustomerErased(CustomerId));
        // The in-memory state goes with the actor; messages after this start from an empty journal.
        Context.Stop(Self);
    }

    private IReadOnlyList<TriggerDecision> Apply(ICustomerJournalEvent e) => e switch
    {
        CustomerEventRecorded r => CustomerJourney.Handle(_state, r.Event, Journey(r.Consent, r.WallNow)).Decisions,
        CustomerTimeAdvanced t => CustomerJourney.AdvanceTo(_state, t.Until, Journey(t.Consent, t.WallNow)).Decisions,
        AnonymousProfileAbsorbed a => CustomerJourney.Absorb(_state, a.Events, Journey(a.Consent, a.WallNow)).Decisions,
        ProfileMergedInto m => MarkMerged(m.Into),
        _ => [],
    };

    private IReadOnlyList<TriggerDecision> MarkMerged(string into)
    {
        _state.MergedInto = into;
        _state.Exists = true;
        return [];
    }

    private DateTimeOffset? ReportNextDue() => ReportNextDue(CustomerJourney.NextDue(_state, Journey(null, null)));

    /// <summary>Tells the scheduler the next due time (none once merged away) and returns what it told.</summary>
    private DateTimeOffset? ReportNextDue(DateTimeOffset? nextDue)
    {
        var next = _state.MergedInto is null ? nextDue : null;
        _timers.Tell(new WakeAt(CustomerId, next));
        return next;
    }

    /// <summary>Hands the decisions to the sinks and answers <paramref name="replyTo"/> once they have taken them,
    /// so that whoever waits for this step (HTTP, the watermark) finds its decisions delivered.</summary>
    private void Emit(IReadOnlyList<TriggerDecision> decisions, IActorRef replyTo, object reply)
    {
        if (decisions.Count == 0)
        {
            replyTo.Tell(reply);
            return;
        }
        var log = _log;
        var customerId = CustomerId;
        _sink.WriteAsync(decisions).AsTask().ContinueWith(t =>
        {
            if (t.IsFaulted) log.Error(t.Exception, "Decision sink failed for {0}", customerId);
            replyTo.Tell(reply);
        }, TaskScheduler.Default);
    }

    public static Props Props(string customerId, IJourneyRules rules, IConsentStore consents, IDecisionSink sink,
        EngineClock clock, IActorRef timers, IActorRef customers, IActorRef products) =>
        Akka.Actor.Props.Create(() => new CustomerEntity(customerId, rules, consents, sink, clock, timers, customers, products));
}
