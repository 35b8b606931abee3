using Akka.Actor;
using Akka.TestKit;
using TriggerEngine.Adapters.Consent;
using TriggerEngine.Adapters.Sinks;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Ports;
using TriggerEngine.Core.Scenarios;

namespace TriggerEngine.Cluster.Tests;

/// <summary>
/// A customer entity on a real SQLite state file, a real consent store and a real NDJSON sink, with test probes
/// standing for the ingest log, the scheduler and the regions. Faults are injected around the real parts: rules that
/// throw stand for a bug in the core, a consent store that fails its reads for a store that is down.
/// </summary>
public sealed class CustomerEntityTests() : EntityTestKit("customer-entity")
{
    private EmbeddedConsentStore _consents = null!;
    private NdjsonDecisionSink _sink = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _consents = new EmbeddedConsentStore(Path.Combine(Dir, "consent.db"));
        _sink = new NdjsonDecisionSink(Path.Combine(Dir, "decisions.ndjson"), ["sent", "suppressed", "deferred"]);
    }

    public override async Task DisposeAsync()
    {
        await _sink.DisposeAsync();
        _consents.Dispose();
        await base.DisposeAsync();
    }

    private static ProductViewed View(string messageId, int minute) => new(messageId, T0.AddMinutes(minute), "sku-1", 10m, "shoes", 5_000);

    private (IActorRef Customer, TestProbe Log) Start(IJourneyRules rules, IConsentStore consents, IDecisionSink? sink = null,
        ResidencyLimit? residency = null)
    {
        var (customer, log, _) = Start("u1", rules, consents, sink, residency);
        return (customer, log);
    }

    /// <summary>Customer <paramref name="id"/>, the probe standing for the log, and the one standing for the customer region.</summary>
    private (IActorRef Customer, TestProbe Log, TestProbe Customers) Start(string id, IJourneyRules rules, IConsentStore consents,
        IDecisionSink? sink = null, ResidencyLimit? residency = null)
    {
        var (log, timers, customers, products) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var clock = new EngineClock(ClockMode.Event, TimeProvider.System, TimeSpan.FromHours(6));
        // Under the user guardian, whose default strategy restarts a failed child, as a shard does its entities.
        var customer = Sys.ActorOf(CustomerEntity.Props(id, rules, consents, sink ?? _sink, clock, Batcher, log, timers, customers,
            products, TimeSpan.FromSeconds(30), residency));
        return (customer, log, customers);
    }

    private static T Reply<T>(TestProbe log, Predicate<T> match) => log.FishForMessage(match, TimeSpan.FromSeconds(10));

    [Fact]
    public async Task Given_acknowledged_events_not_yet_saved_When_the_entity_fails_and_restarts_Then_it_keeps_them_and_saves_them_in_the_next_round()
    {
        var rules = new BreakableRules();
        var (customer, log) = Start(rules, _consents);
        customer.Tell(new IngestEvents("u1", [View("view-1", 0)], 1), log);
        Assert.Equal(1, Reply<EventsIngested>(log, e => e.Seq == 1).Applied);

        // A bug: the next record throws before anything of it is applied. Its request is never answered (it retries);
        // the new instance tells the log it has changes to save.
        rules.BreakOnce();
        customer.Tell(new IngestEvents("u1", [View("view-2", 1)], 2), log);
        Assert.Equal(new MarkDirty(EntityKind.Customer, "u1"), log.ExpectMsg<MarkDirty>(TimeSpan.FromSeconds(10)));

        // The restarted entity still has the event acknowledged before the failure.
        customer.Tell(new ExplainCustomer("u1"), log);
        var explained = Reply<CustomerExplanation>(log, _ => true);
        Assert.Equal(["view-1"], explained.History.Select(h => h.MessageId));

        // And counts as changed: the next round saves it (its save committed before the round hears back).
        customer.Tell(new Checkpoint("u1", 1), log);
        Assert.True(Reply<Checkpointed>(log, c => c.Round == 1).Ok);
        var row = Assert.Single(await Store.LoadAsync("c", ["u1"]));
        Assert.Equal(1, row.AppliedSeq);
        Assert.Equal(["view-1"], StateCodec.DecodeCustomer("u1", row.State).History.Select(h => h.MessageId));
    }

    [Fact]
    public async Task Given_a_customer_saved_by_a_checkpoint_When_its_next_events_arrive_Then_it_goes_on_from_the_saved_state()
    {
        // A limit of one: the residents fill it, so a saved customer rests.
        var (customer, log) = Start(new FixedJourneyRules(ScenarioRules.Default, PolicyRules.Default), _consents, residency: new ResidencyLimit(1));
        customer.Tell(new IngestEvents("u1", [View("view-1", 0)], 1), log);
        Assert.Equal(1, Reply<EventsIngested>(log, e => e.Seq == 1).Applied);
        // Saved and idle: the entity keeps only the saved bytes until its next message.
        customer.Tell(new Checkpoint("u1", 1), log);
        Assert.True(Reply<Checkpointed>(log, c => c.Round == 1).Ok);

        // A copy of the first event is still known (its dedup memory came back), the new one applies after it.
        customer.Tell(new IngestEvents("u1", [View("view-1", 0), View("view-2", 1)], 2), log);
        var second = Reply<EventsIngested>(log, e => e.Seq == 2);
        Assert.Equal((1, 1), (second.Applied, second.Duplicates));
        customer.Tell(new ExplainCustomer("u1"), log);
        Assert.Equal(["view-1", "view-2"], Reply<CustomerExplanation>(log, _ => true).History.Select(h => h.MessageId));

        // The next save writes both.
        customer.Tell(new Checkpoint("u1", 2), log);
        Assert.True(Reply<Checkpointed>(log, c => c.Round == 2).Ok);
        var row = Assert.Single(await Store.LoadAsync("c", ["u1"]));
        Assert.Equal(2, row.AppliedSeq);
        Assert.Equal(["view-1", "view-2"], StateCodec.DecodeCustomer("u1", row.State).History.Select(h => h.MessageId));
    }

    [Fact]
    public void Given_the_consent_store_failing_When_a_record_reaches_the_customer_Then_the_log_hears_the_failure_at_once_and_earlier_events_stay()
    {
        var consents = new FailingConsentStore(_consents);
        var (customer, log) = Start(new FixedJourneyRules(ScenarioRules.Default, PolicyRules.Default), consents);
        customer.Tell(new IngestEvents("u1", [View("view-1", 0)], 1), log);
        Assert.Equal(1, Reply<EventsIngested>(log, e => e.Seq == 1).Applied);

        consents.Failing = true;
        customer.Tell(new IngestEvents("u1", [View("view-2", 1)], 2), log);
        var failed = Reply<ApplyFailed>(log, _ => true);
        Assert.Equal(2, failed.Seq);
        Assert.Contains("consent", failed.Reason);

        // The retry (a new record) applies once the store is back; nothing before it was lost.
        consents.Failing = false;
        customer.Tell(new IngestEvents("u1", [View("view-2", 1)], 3), log);
        Assert.Equal(1, Reply<EventsIngested>(log, e => e.Seq == 3).Applied);
        customer.Tell(new ExplainCustomer("u1"), log);
        Assert.Equal(["view-1", "view-2"], Reply<CustomerExplanation>(log, _ => true).History.Select(h => h.MessageId));
    }

    [Fact]
    public void Given_the_outbox_failing_once_When_a_step_decides_Then_the_decision_is_recorded_by_a_retry_and_the_save_waits_for_it()
    {
        var sink = new FailingDecisionSink(_sink, failures: 1);
        var (customer, log) = Start(new FixedJourneyRules(ScenarioRules.Default, PolicyRules.Default), _consents, sink);
        customer.Tell(new IngestEvents("u1", [new SignedUp("signup-1", T0, "Signed Up")], 1), log);
        Assert.Equal(1, Reply<EventsIngested>(log, e => e.Seq == 1).Applied);

        // A later event closes the arbitration window: the welcome is decided, and the outbox fails to take it.
        customer.Tell(new IngestEvents("u1", [View("view-1", 5)], 2), log);
        Assert.Equal(2, Reply<ApplyFailed>(log, _ => true).Seq);
        Assert.Empty(sink.Recorded);

        // A checkpoint meanwhile waits: the state holds the step, so it may be saved only once its decision is recorded.
        customer.Tell(new Checkpoint("u1", 1), log);
        Assert.True(Reply<Checkpointed>(log, c => c.Round == 1).Ok);
        var welcome = Assert.Single(sink.Recorded);
        Assert.Equal("welcome", welcome.Scenario);
    }

    [Fact]
    public async Task Given_a_recording_in_flight_When_the_entity_restarts_before_it_ends_Then_its_state_is_stored_only_after_it_and_it_still_saves_and_stops()
    {
        var sink = new FailingDecisionSink(_sink, failures: 0) { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var rules = new BreakableRules();
        var (customer, log) = Start(rules, _consents, sink);
        customer.Tell(new IngestEvents("u1", [new SignedUp("signup-1", T0, "Signed Up")], 1), log);
        Assert.Equal(1, Reply<EventsIngested>(log, e => e.Seq == 1).Applied);
        // The welcome is decided; the outbox is slow to take it.
        customer.Tell(new IngestEvents("u1", [View("view-1", 5)], 2), log);

        await sink.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // A bug fails the entity while that recording is in flight; the new instance says it has changes to save.
        rules.BreakOnce();
        customer.Tell(new IngestEvents("u1", [View("view-2", 6)], 3), log);
        log.FishForMessage<MarkDirty>(_ => true, TimeSpan.FromSeconds(10));
        // The old instance's last state, which holds the step, waits for the decision to be recorded before it is stored;
        // the new instance has it meanwhile. (A write queued after it has committed: anything queued before it has too.)
        await Batcher.SaveAsync(new StoredState("c", "barrier", [1], 0, null));
        Assert.Empty(await Store.LoadAsync("c", ["u1"]));
        customer.Tell(new IngestEvents("u1", [View("view-1", 5)], 4), log);
        var again = Reply<EventsIngested>(log, e => e.Seq == 4);
        Assert.Equal((0, 1), (again.Applied, again.Duplicates));

        // The recording ends (its request is answered) and tells the entity, whose new instance never waited for it.
        sink.Gate.SetResult();
        Reply<EventsIngested>(log, e => e.Seq == 2);

        // Its saves wait for nothing: a checkpoint, then a stop, go through.
        customer.Tell(new Checkpoint("u1", 1), log);
        Assert.True(Reply<Checkpointed>(log, c => c.Round == 1).Ok);
        Watch(customer);
        customer.Tell(StopEntity.Instance);
        ExpectTerminated(customer, TimeSpan.FromSeconds(10));
        Assert.Equal("welcome", Assert.Single(sink.Recorded).Scenario);
        Assert.Equal(2, Assert.Single(await Store.LoadAsync("c", ["u1"])).AppliedSeq);
    }

    [Fact]
    public void Given_a_profile_merged_away_When_the_customer_it_forwards_to_fails_a_record_Then_the_failure_names_the_profile_addressed()
    {
        var rules = new FixedJourneyRules(ScenarioRules.Default, PolicyRules.Default);
        var (anonymous, log, customers) = Start("anon-1", rules, _consents);
        anonymous.Tell(new HandOverProfile("anon-1", "u2"), log);
        log.FishForMessage<ProfileHandedOver>(_ => true, TimeSpan.FromSeconds(10));

        // A record addressed to the merged profile goes on to the customer it became, naming where it was addressed.
        anonymous.Tell(new IngestEvents("anon-1", [View("view-1", 0)], 7), log);
        var forwarded = customers.FishForMessage<IngestEvents>(_ => true, TimeSpan.FromSeconds(10));
        Assert.Equal(("u2", "anon-1"), (forwarded.CustomerId, forwarded.ForwardedFrom));

        // That customer cannot read its consent: it fails the record in the profile's name, which is what the log sends
        // a replayed record's part to again (IngestLog.RetryReplayed).
        var (customer, log2, _) = Start("u2", rules, new FailingConsentStore(_consents) { Failing = true });
        customer.Tell(forwarded, log2);
        var failed = Reply<ApplyFailed>(log2, _ => true);
        Assert.Equal((7L, "anon-1"), (failed.Seq, failed.EntityId));
    }

    /// <summary>The real sink behind a number of failed writes (an outbox whose store fails), then passing through and
    /// keeping what it passed; with a <see cref="Gate"/>, each write waits for it first (a slow outbox).</summary>
    private sealed class FailingDecisionSink(IDecisionSink inner, int failures) : IDecisionSink
    {
        private int _failures = failures;
        private readonly List<TriggerDecision> _recorded = [];
        public TaskCompletionSource? Gate { get; init; }
        /// <summary>Completes at the first write.</summary>
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<TriggerDecision> Recorded
        {
            get { lock (_recorded) return _recorded.ToArray(); }
        }

        public async ValueTask WriteAsync(IReadOnlyList<TriggerDecision> decisions, CancellationToken cancellationToken = default)
        {
            Entered.TrySetResult();
            if (Gate is { } gate) await gate.Task;
            if (Interlocked.Decrement(ref _failures) >= 0) throw new IOException("the outbox's store failed");
            await inner.WriteAsync(decisions, cancellationToken);
            lock (_recorded) _recorded.AddRange(decisions);
        }
    }

    /// <summary>The default rules; once <see cref="BreakOnce"/> is called, the next read throws: a bug in the core,
    /// met by one message.</summary>
    private sealed class BreakableRules : IJourneyRules
    {
        private int _broken;
        public void BreakOnce() => Volatile.Write(ref _broken, 1);
        public ScenarioRules Scenarios => Interlocked.Exchange(ref _broken, 0) == 1
            ? throw new InvalidOperationException("a bug in the core") : ScenarioRules.Default;
        public PolicyRules Policy => PolicyRules.Default;
        public event Action? Changed { add { } remove { } }
    }

    /// <summary>The real store, whose reads fail while <see cref="Failing"/> (a store that is down).</summary>
    private sealed class FailingConsentStore(IConsentStore inner) : IConsentStore
    {
        public volatile bool Failing;

        public ValueTask<ConsentRecord?> GetAsync(string customerId, CancellationToken cancellationToken = default) =>
            Failing ? ValueTask.FromException<ConsentRecord?>(new IOException("the consent store is unreachable"))
                : inner.GetAsync(customerId, cancellationToken);

        public ValueTask<ConsentRecord> PutAsync(string customerId, ConsentRecord record, CancellationToken cancellationToken = default) =>
            inner.PutAsync(customerId, record, cancellationToken);

        public ValueTask DeleteAsync(string customerId, CancellationToken cancellationToken = default) =>
            inner.DeleteAsync(customerId, cancellationToken);
    }
}
