using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Microsoft.Data.Sqlite;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Cluster.Products;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Tests;

/// <summary>
/// After a restart the ingest log replays its journal (SQLite, Akka.Persistence.Sql) in the live order: request
/// records overlap, but a catalog record goes alone, after everything before it is applied. Test probes stand where
/// the shard regions are, so the test decides when each record is acknowledged.
/// </summary>
public sealed class IngestLogReplayTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly string Dir = Path.Combine(Path.GetTempPath(), "trigger-engine-tests", Guid.NewGuid().ToString("N"));
    private static readonly string Journal = new SqliteConnectionStringBuilder { DataSource = Path.Combine(Dir, "engine.db") }.ToString();
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);

    public IngestLogReplayTests() : base(Settings(), "ingest-log-replay") { }

    private static Config Settings()
    {
        Directory.CreateDirectory(Dir);
        var te = "TriggerEngine.Cluster.Serialization.MessagePackAkkaSerializer, TriggerEngine.Cluster";
        return ConfigurationFactory.ParseString($$"""
            akka.actor.serializers.te = "{{te}}"
            akka.actor.serialization-bindings {
              "TriggerEngine.Cluster.Ingest.CallsRecord, TriggerEngine.Cluster" = te
              "TriggerEngine.Cluster.Ingest.CatalogRecord, TriggerEngine.Cluster" = te
              "TriggerEngine.Cluster.Ingest.LogMark, TriggerEngine.Cluster" = te
            }
            akka.persistence.journal.plugin = "akka.persistence.journal.sql"
            akka.persistence.journal.sql {
              connection-string = "{{Journal}}"
              provider-name = "SQLite.MS"
              auto-initialize = true
              tag-write-mode = Csv
            }
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
            akka.persistence.snapshot-store.sql {
              connection-string = "{{Journal}}"
              provider-name = "SQLite.MS"
              auto-initialize = true
            }
            """).WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
    }

    /// <summary>A fresh state store in its own file of the test directory.</summary>
    private static async Task<SqliteStateStore> NewStore(string file)
    {
        var store = new SqliteStateStore(new SqliteConnectionStringBuilder { DataSource = Path.Combine(Dir, file) }.ToString());
        await store.InitializeAsync();
        return store;
    }

    /// <summary>Stops a live log before any checkpoint (the tests run rounds hourly): its journal is what a restarted log replays.</summary>
    private void StopLog(IActorRef log)
    {
        Watch(log);
        Sys.Stop(log);
        ExpectTerminated(log);
    }

    private static LoggedCall View(string customer, int minute) =>
        new(customer, new ProductViewed($"{customer}-{minute}", T0.AddMinutes(minute), "sku-1", 10m, null, null), null);

    private IActorRef StartLog(IStateStore store, IActorRef customers, IActorRef products, IActorRef timers, string name,
        string logId = "replay-test", TimeSpan? roundTimeout = null, int checkpointWindow = IngestLog.DefaultCheckpointWindow,
        TimeSpan? windowDoublesEvery = null, TimeSpan? pendingTimeout = null) =>
        Sys.ActorOf(IngestLog.Props(logId, customers, products, timers, store, new JournalPurge("sqlite", Journal),
            new IngestPressure(1_000_000), new EngineReadiness(), TimeSpan.FromHours(1), roundTimeout, checkpointWindow,
            windowDoublesEvery, pendingTimeout), name);

    /// <summary>A live log over a fresh state store with probes as regions, one request of views by
    /// <paramref name="customers"/> written and acknowledged by everyone it went to.</summary>
    private async Task<(SqliteStateStore Store, IActorRef Log, TestProbe Customers, TestProbe Products)> LogWithAppliedViews(
        string name, TimeSpan? roundTimeout, params string[] customers) =>
        await LogWithAppliedViews(name, roundTimeout, IngestLog.DefaultCheckpointWindow, null, customers);

    private async Task<(SqliteStateStore Store, IActorRef Log, TestProbe Customers, TestProbe Products)> LogWithAppliedViews(
        string name, TimeSpan? roundTimeout, int checkpointWindow, TimeSpan? windowDoublesEvery, params string[] customers)
    {
        var store = await NewStore($"state-{name}.db");
        var (c, p) = (CreateTestProbe(), CreateTestProbe());
        var log = StartLog(store, c, p, CreateTestProbe(), name, logId: name + "-test", roundTimeout: roundTimeout,
            checkpointWindow: checkpointWindow, windowDoublesEvery: windowDoublesEvery);
        log.Tell(new AppendCalls(customers.Select((id, i) => View(id, i + 1)).ToArray(), null), TestActor);
        foreach (var ingest in c.ReceiveN(customers.Length, TimeSpan.FromSeconds(20)).Cast<IngestEvents>())
            log.Tell(new EventsIngested(ingest.CustomerId, 1, 0, ingest.Seq), c);
        var interest = p.ExpectMsg<RecordInterests>();
        p.Reply(new ProductAck(interest.ProductId, interest.Seq));
        ExpectMsg<RecordApplied>();
        return (store, log, c, p);
    }

    [Fact]
    public async Task Given_a_round_larger_than_its_window_When_it_starts_Then_only_a_window_of_entities_saves_at_once()
    {
        var (store, log, customers, products) = await LogWithAppliedViews("window", null, 2, TimeSpan.FromHours(1),
            "c1", "c2", "c3", "c4", "c5");
        await using var _ = store;

        log.Tell(CheckpointNow.Instance, TestActor);
        var first = customers.ReceiveN(2).Cast<Checkpoint>().ToList();
        customers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        var round = first[0].Round;
        log.Tell(new Checkpointed(round, true, EntityKind.Customer, first[0].EntityId), customers);
        var third = customers.ExpectMsg<Checkpoint>();
        customers.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        var asked = new List<Checkpoint>(first) { third };
        foreach (var c in asked.Skip(1)) log.Tell(new Checkpointed(round, true, EntityKind.Customer, c.EntityId), customers);
        asked.AddRange(customers.ReceiveN(2).Cast<Checkpoint>());
        Assert.Equal(["c1", "c2", "c3", "c4", "c5"], asked.Select(c => c.EntityId).Order());
        products.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // the window is full
        foreach (var c in asked.Skip(3)) log.Tell(new Checkpointed(round, true, EntityKind.Customer, c.EntityId), customers);
        products.ExpectMsg<Checkpoint>(c => c.Round == round, TimeSpan.FromSeconds(5));
        log.Tell(new Checkpointed(round, true, EntityKind.Product, "sku-1"), products);
        ExpectMsg<CheckpointDone>(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Given_a_round_that_runs_long_When_an_entity_answers_Then_the_window_has_grown()
    {
        var (store, log, customers, products) = await LogWithAppliedViews("window-grows", null, 1, TimeSpan.FromMilliseconds(300),
            "c1", "c2", "c3", "c4", "c5");
        await using var _ = store;

        log.Tell(CheckpointNow.Instance, TestActor);
        var first = customers.ExpectMsg<Checkpoint>();
        customers.ExpectNoMsg(TimeSpan.FromMilliseconds(700)); // nothing more until an answer, however long it takes
        log.Tell(new Checkpointed(first.Round, true, EntityKind.Customer, first.EntityId), customers);
        var next = customers.ReceiveN(4).Cast<Checkpoint>().ToList(); // the window is 4 or more by now, not 1
        foreach (var c in next) log.Tell(new Checkpointed(c.Round, true, EntityKind.Customer, c.EntityId), customers);
        products.ExpectMsg<Checkpoint>(c => c.Round == first.Round);
        log.Tell(new Checkpointed(first.Round, true, EntityKind.Product, "sku-1"), products);
        ExpectMsg<CheckpointDone>(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Given_an_entity_that_saved_and_stopped_When_the_next_round_starts_Then_it_is_not_started_again_to_be_asked()
    {
        var (store, log, customers, products) = await LogWithAppliedViews("stopped", null, "c1", "c2");
        await using var _ = store;

        log.Tell(new SavedAndStopped(EntityKind.Customer, "c1"), customers);
        log.Tell(CheckpointNow.Instance, TestActor);

        var asked = customers.ExpectMsg<Checkpoint>();
        Assert.Equal("c2", asked.EntityId);
        customers.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        log.Tell(new Checkpointed(asked.Round, true), customers);
        products.ExpectMsg<Checkpoint>(c => c.Round == asked.Round);
        products.Reply(new Checkpointed(asked.Round, true));
        ExpectMsg<CheckpointDone>(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Given_a_round_under_way_When_one_entity_stops_after_saving_and_another_never_answers_Then_the_stop_counts_and_only_the_silent_one_is_asked_again()
    {
        var (store, log, customers, products) = await LogWithAppliedViews("midround", TimeSpan.FromSeconds(1), "c1", "c2", "c3");
        await using var _ = store;

        log.Tell(CheckpointNow.Instance, TestActor);
        var asked = customers.ReceiveN(3).Cast<Checkpoint>().ToList();
        var round = asked[0].Round;
        products.ExpectMsg<Checkpoint>();
        log.Tell(new Checkpointed(round, true, EntityKind.Product, "sku-1"), products);
        log.Tell(new SavedAndStopped(EntityKind.Customer, "c1"), customers);             // stopped meanwhile
        log.Tell(new Checkpointed(round, true, EntityKind.Customer, "c1"), customers);   // its new incarnation: not twice
        log.Tell(new Checkpointed(round, true, EntityKind.Customer, "c2"), customers);
        ExpectNoMsg(TimeSpan.FromSeconds(2));                                            // c3 is silent: the round fails

        log.Tell(CheckpointNow.Instance, TestActor);
        var again = customers.ExpectMsg<Checkpoint>(TimeSpan.FromSeconds(5));
        Assert.Equal("c3", again.EntityId);
        customers.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        products.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        log.Tell(new Checkpointed(again.Round, true, EntityKind.Customer, "c3"), customers);
        ExpectMsg<CheckpointDone>(TimeSpan.FromSeconds(10));
        ExpectMsg<CheckpointDone>(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Given_an_entity_that_never_answers_a_checkpoint_When_the_round_times_out_Then_the_next_round_asks_it_again_and_completes()
    {
        var (store, log, customers, products) = await LogWithAppliedViews("timeout", TimeSpan.FromSeconds(1), "c1");
        await using var _ = store;

        log.Tell(CheckpointNow.Instance, TestActor);
        var first = customers.ExpectMsg<Checkpoint>();   // this answer is lost
        products.ExpectMsg<Checkpoint>(c => c.Round == first.Round);
        products.Reply(new Checkpointed(first.Round, true));
        ExpectNoMsg(TimeSpan.FromSeconds(2));            // the round waits, then fails: nothing is reported done

        log.Tell(CheckpointNow.Instance, TestActor);
        var again = customers.ExpectMsg<Checkpoint>(c => c.EntityId == "c1", TimeSpan.FromSeconds(5));
        Assert.True(again.Round > first.Round);
        customers.Reply(new Checkpointed(again.Round, true));
        products.ExpectMsg<Checkpoint>(c => c.Round == again.Round); // the failed round's entities all go again
        products.Reply(new Checkpointed(again.Round, true));
        ExpectMsg<CheckpointDone>(TimeSpan.FromSeconds(10));
        ExpectMsg<CheckpointDone>(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Given_a_live_record_one_entity_never_acknowledges_When_it_has_waited_its_timeout_Then_its_client_hears_a_failure_and_checkpoints_pass_it()
    {
        await using var store = await NewStore("state-stale.db");
        var (customers, products) = (CreateTestProbe(), CreateTestProbe());
        var log = StartLog(store, customers, products, CreateTestProbe(), "stale", logId: "stale-test",
            pendingTimeout: TimeSpan.FromSeconds(1));

        log.Tell(new AppendCalls([View("c1", 1), View("c2", 2)], null), TestActor);
        var ingests = customers.ReceiveN(2, TimeSpan.FromSeconds(20)).Cast<IngestEvents>().ToList();
        var seq = ingests[0].Seq;
        log.Tell(new EventsIngested("c1", 1, 0, seq), customers); // c2's acknowledgement never comes
        var interest = products.ExpectMsg<RecordInterests>();
        products.Reply(new ProductAck(interest.ProductId, interest.Seq));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));              // still within its time

        var failure = ExpectMsg<Status.Failure>(TimeSpan.FromSeconds(5));
        Assert.Contains("did not acknowledge", failure.Cause.Message);
        EventFilter.Warning(contains: "c2 acknowledged it").ExpectOne(() => log.Tell(new EventsIngested("c2", 1, 0, seq), customers));
        log.Tell(CheckpointNow.Instance, TestActor);
        foreach (var c in customers.ReceiveN(2, TimeSpan.FromSeconds(5)).Cast<Checkpoint>()) // c2 changed too, late
            log.Tell(new Checkpointed(c.Round, true, EntityKind.Customer, c.EntityId), customers);
        var product = products.ExpectMsg<Checkpoint>(TimeSpan.FromSeconds(5));
        log.Tell(new Checkpointed(product.Round, true, EntityKind.Product, product.EntityId), products);
        Assert.True(ExpectMsg<CheckpointDone>(TimeSpan.FromSeconds(10)).Through >= seq);
    }

    [Fact]
    public async Task Given_requests_around_a_catalog_record_When_the_log_replays_after_a_restart_Then_the_catalog_record_goes_alone_in_its_place()
    {
        await using var store = await NewStore("state.db");
        // Live: four records written, none applied (nobody answers), no checkpoint.
        var (customers, products, timers) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var live = StartLog(store, customers, products, timers, "live");
        live.Tell(new AppendCalls([View("c1", 1)], null));
        customers.ExpectMsg<IngestEvents>(e => e.Seq == 1, TimeSpan.FromSeconds(20)); // the first write creates the journal
        live.Tell(new AppendCatalog([new CatalogUpdate("sku-1", 8m, "EUR", null, null, null, null, T0.AddMinutes(2))]));
        products.FishForMessage(m => m is UpdateCatalog { Seq: 2 });
        live.Tell(new AppendCalls([View("c2", 3)], null));
        live.Tell(new AppendCalls([View("c3", 4)], null));
        customers.FishForMessage(m => m is IngestEvents { Seq: 4 });
        StopLog(live);

        var (c, p, t) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var restarted = StartLog(store, c, p, t, "restarted");
        var first = c.ExpectMsg<IngestEvents>(e => e.Seq == 1);
        // The catalog record waits for record 1; a request arriving now is refused (it would overtake the replay).
        p.ExpectMsg<RecordInterests>(r => r.Seq == 1);
        p.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        restarted.Tell(new AppendCalls([View("c9", 9)], null), TestActor);
        ExpectMsg<Status.Failure>();

        c.Reply(new EventsIngested(first.CustomerId, 1, 0, 1));
        p.Send(restarted, new ProductAck("sku-1", 1));
        var catalog = p.ExpectMsg<UpdateCatalog>(u => u.Seq == 2);
        c.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // nothing after the catalog record until it is applied

        p.Reply(new ProductAck(catalog.ProductId, 2));
        var later = new[] { c.ExpectMsg<IngestEvents>(), c.ExpectMsg<IngestEvents>() };
        Assert.Equal([3L, 4L], later.Select(e => e.Seq).Order());
        foreach (var e in later) restarted.Tell(new EventsIngested(e.CustomerId, 1, 0, e.Seq), c);
        foreach (var r in p.ReceiveN(2).Cast<RecordInterests>()) restarted.Tell(new ProductAck(r.ProductId, r.Seq), p);
        t.FishForMessage(m => m is LogRecovered);
    }

    [Fact]
    public async Task Given_a_request_with_an_identify_merge_When_the_log_replays_Then_other_persons_requests_go_beside_it_and_the_same_persons_wait()
    {
        await using var store = await NewStore("state-merge.db");
        // Live: a merge, a request of someone else, a request of the merged person; none applied, no checkpoint.
        var (customers, products, timers) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var live = StartLog(store, customers, products, timers, "merge-live", logId: "merge-replay");
        live.Tell(new AppendCalls([new LoggedCall("u1", new Identified("id-1", T0, null), "anon:v1")], null));
        customers.FishForMessage(m => m is MergeAnonymousProfile { Seq: 1 }, TimeSpan.FromSeconds(20));
        live.Tell(new AppendCalls([View("c2", 2)], null));
        live.Tell(new AppendCalls([View("u1", 3)], null));
        customers.FishForMessage(m => m is IngestEvents { Seq: 3 });
        StopLog(live);

        var (c, p, t) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var restarted = StartLog(store, c, p, t, "merge-restarted", logId: "merge-replay");
        var merge = c.ReceiveN(3, TimeSpan.FromSeconds(20)).ToList();
        Assert.Contains(merge, m => m is MergeAnonymousProfile { CustomerId: "u1", Seq: 1 });
        Assert.Contains(merge, m => m is IngestEvents { CustomerId: "u1", Seq: 1 });
        Assert.Contains(merge, m => m is IngestEvents { CustomerId: "c2", Seq: 2 }); // beside the merge: another person
        c.ExpectNoMsg(TimeSpan.FromMilliseconds(300));                                 // u1's next request waits for it

        restarted.Tell(new EventsIngested("u1", 1, 0, 1), c);
        restarted.Tell(new EventsIngested("u1", 0, 0, 1), c);
        c.ExpectMsg<IngestEvents>(e => e is { CustomerId: "u1", Seq: 3 });
    }

    [Fact]
    public async Task Given_a_replayed_record_an_entity_fails_to_apply_When_it_answers_the_failure_Then_it_is_sent_its_part_again_and_the_record_waits()
    {
        await using var store = await NewStore("state-retry.db");
        // Live: one request for two customers, answered 200 (as far as its client knows), not checkpointed.
        var (customers, products, timers) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var live = StartLog(store, customers, products, timers, "retry-live", logId: "retry-replay");
        live.Tell(new AppendCalls([View("c1", 1), View("c2", 2)], null));
        customers.FishForMessage(m => m is IngestEvents { CustomerId: "c2", Seq: 1 }, TimeSpan.FromSeconds(20));
        StopLog(live);

        var (c, p, t) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var restarted = StartLog(store, c, p, t, "retry-restarted", logId: "retry-replay");
        var replayed = c.ReceiveN(2, TimeSpan.FromSeconds(20)).Cast<IngestEvents>().ToList();
        foreach (var r in p.ReceiveN(1).Cast<RecordInterests>()) restarted.Tell(new ProductAck(r.ProductId, r.Seq), p);
        restarted.Tell(new EventsIngested("c1", 1, 0, 1), c);
        // c2 could not apply it (say its consent read failed): no client will retry this record, so the log does.
        restarted.Tell(new ApplyFailed(1, "c2", "reading consent failed"), c);
        var again = c.ExpectMsg<IngestEvents>(TimeSpan.FromSeconds(5));
        Assert.Equal(replayed.Single(e => e.CustomerId == "c2").Events, again.Events);
        Assert.Equal(("c2", 1L), (again.CustomerId, again.Seq));
        t.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // not recovered while c2 has not applied it

        restarted.Tell(new EventsIngested("c2", 1, 0, 1), c);
        t.FishForMessage(m => m is LogRecovered);
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
