using System.Text;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Core.Catalog;

namespace TriggerEngine.Tests.Shared;

/// <summary>
/// The behaviours every <see cref="IStateStore"/> must have, and <see cref="StateBatcher"/> over it, run against a
/// real database. Compiled into each test project that has a backend (linked source: the SQLite tests live in
/// Cluster.Tests, the PostgreSQL ones in Host.Tests beside the server fixture). Each test gets an empty database.
/// </summary>
public abstract class StateStoreContract : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);
    protected readonly ManualClock Clock = new(T0);
    private readonly List<IStateStore> _opened = [];

    /// <summary>A store on this test's database: the same database every time it is called within a test.</summary>
    protected abstract IStateStore CreateStore(TimeProvider clock);

    /// <summary>A new store instance on this test's database, initialized.</summary>
    protected async Task<IStateStore> OpenAsync()
    {
        var store = CreateStore(Clock);
        _opened.Add(store);
        await store.InitializeAsync();
        return store;
    }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var s in _opened) await s.DisposeAsync();
    }

    protected static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);
    protected static string Text(byte[] b) => Encoding.UTF8.GetString(b);
    protected static StoredState State(string kind, string id, string body, long seq = 1, DateTimeOffset? due = null) =>
        new(kind, id, Bytes(body), seq, due);

    [Fact]
    public async Task Given_states_When_upserted_loaded_and_deleted_Then_each_step_is_visible()
    {
        var store = await OpenAsync();
        await store.InitializeAsync(); // idempotent
        await store.SaveAsync([State("c", "alice", "a1", 1, T0.AddMinutes(5)), State("c", "bob", "b1", 3), State("p", "alice", "product")]);

        var loaded = await store.LoadAsync("c", ["alice", "bob", "nobody"]);
        Assert.Equal(["alice:a1:1:" + T0.AddMinutes(5).ToUnixTimeMilliseconds(), "bob:b1:3:-"],
            loaded.OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => $"{s.Id}:{Text(s.State)}:{s.AppliedSeq}:{s.NextDue?.ToUnixTimeMilliseconds().ToString() ?? "-"}"));
        Assert.Equal(TimeSpan.Zero, loaded.First(s => s.Id == "alice").NextDue!.Value.Offset);
        Assert.Equal("product", Text(Assert.Single(await store.LoadAsync("p", ["alice", "bob"])).State));

        // Upsert replaces, and the later of two saves of one key in one call wins.
        await store.SaveAsync([State("c", "alice", "a2", 2), State("c", "alice", "a3", 4, T0)]);
        var alice = Assert.Single(await store.LoadAsync("c", ["alice"]));
        Assert.Equal(("a3", 4L, (DateTimeOffset?)T0), (Text(alice.State), alice.AppliedSeq, alice.NextDue));
        Assert.Equal(2, await store.CountAsync("c"));

        await store.DeleteAsync("c", "alice");
        await store.DeleteAsync("c", "nobody");
        Assert.Empty(await store.LoadAsync("c", ["alice"]));
        Assert.Equal(1, await store.CountAsync("c"));
        Assert.Equal(1, await store.CountAsync("p"));
        Assert.Empty(await store.LoadAsync("c", []));
    }

    [Fact]
    public async Task Given_more_ids_than_one_query_takes_When_loaded_Then_every_present_one_comes_back()
    {
        var store = await OpenAsync();
        await store.SaveAsync(Enumerable.Range(0, 1_200).Select(i => State("c", $"u{i}", $"s{i}")).ToList());
        var ids = Enumerable.Range(0, 1_300).Select(i => $"u{i}").ToList(); // 100 missing
        var loaded = await store.LoadAsync("c", ids);
        Assert.Equal(1_200, loaded.Count);
        Assert.All(loaded, s => Assert.Equal("s" + s.Id[1..], Text(s.State)));
        // Odd sizes (padded IN lists) too.
        foreach (var n in new[] { 1, 2, 9, 33, 129, 501 })
            Assert.Equal(n, (await store.LoadAsync("c", ids.Take(n).ToList())).Count);
    }

    [Fact]
    public async Task Given_2500_timers_with_ties_When_paged_by_keyset_Then_every_due_one_comes_once_in_due_then_id_order()
    {
        var store = await OpenAsync();
        var rows = Enumerable.Range(0, 2_500).Select(i => State("c", $"c{i % 7}-{i}", "s", 1,
            i % 10 == 9 ? null : T0.AddMinutes(i % 40))).ToList(); // 40 distinct due times: ~56 ties each; 250 without a timer
        rows.Add(State("p", "p1", "s", 1, T0)); // another kind
        await store.SaveAsync(rows);
        var until = T0.AddMinutes(30); // minutes 31..39 are not due yet

        var expected = rows.Where(r => r.Kind == "c" && r.NextDue <= until)
            .OrderBy(r => r.NextDue).ThenBy(r => r.Id, StringComparer.Ordinal).Select(r => (r.Id, r.NextDue!.Value)).ToList();
        var seen = new List<(string Id, DateTimeOffset Due)>();
        (DateTimeOffset, string)? after = null;
        var pages = 0;
        while (true)
        {
            var page = await store.DueAsync("c", until, after, 97);
            if (page.Count == 0) break;
            Assert.True(page.Count <= 97);
            seen.AddRange(page);
            after = (page[^1].Due, page[^1].Id);
            pages++;
        }
        Assert.Equal(expected.Count, seen.Count);
        Assert.Equal(expected, seen);
        Assert.True(pages > 10);
        Assert.Equal([("p1", T0)], await store.DueAsync("p", until, null, 10));
    }

    [Fact]
    public async Task Given_a_decision_already_in_the_outbox_When_appended_again_Then_nothing_new_is_returned()
    {
        var store = await OpenAsync();
        var first = await store.AppendOutboxAsync([("d1", Bytes("one")), ("d2", Bytes("two")), ("d1", Bytes("dup in call"))]);
        Assert.Equal(["d1", "d2"], first.Select(e => e.DecisionId));
        Assert.True(first[0].Ordinal < first[1].Ordinal);
        Assert.Equal("one", Text(first[0].Payload));

        var second = await store.AppendOutboxAsync([("d2", Bytes("two again")), ("d3", Bytes("three"))]);
        Assert.Equal("d3", Assert.Single(second).DecisionId);
        Assert.True(second[0].Ordinal > first[1].Ordinal);
        Assert.Empty(await store.AppendOutboxAsync([("d1", Bytes("x")), ("d3", Bytes("y"))]));

        var undelivered = await store.UndeliveredAsync(10);
        Assert.Equal(["d1:one", "d2:two", "d3:three"], undelivered.Select(e => $"{e.DecisionId}:{Text(e.Payload)}"));
        Assert.Equal(["d1", "d2"], (await store.UndeliveredAsync(2)).Select(e => e.DecisionId));
    }

    [Fact]
    public async Task Given_a_delivered_cursor_When_marked_lower_Then_it_does_not_move_back()
    {
        var store = await OpenAsync();
        var entries = await store.AppendOutboxAsync(Enumerable.Range(1, 5).Select(i => ($"d{i}", Bytes($"p{i}"))).ToList());
        await store.MarkDeliveredAsync(entries[2].Ordinal);
        Assert.Equal(["d4", "d5"], (await store.UndeliveredAsync(10)).Select(e => e.DecisionId));
        await store.MarkDeliveredAsync(entries[0].Ordinal);
        Assert.Equal(["d4", "d5"], (await store.UndeliveredAsync(10)).Select(e => e.DecisionId));
        await store.MarkDeliveredAsync(entries[4].Ordinal);
        Assert.Empty(await store.UndeliveredAsync(10));
        Assert.Equal(entries[4].Ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture), await store.GetMetaAsync("outbox.delivered"));
    }

    [Fact]
    public async Task Given_old_and_new_outbox_rows_When_pruned_Then_only_old_delivered_ones_go()
    {
        var store = await OpenAsync();
        var old = await store.AppendOutboxAsync([("a", Bytes("a")), ("b", Bytes("b")), ("c", Bytes("c"))]);
        await store.MarkDeliveredAsync(old[1].Ordinal); // a, b delivered; c not
        Clock.Now = T0.AddHours(2);
        var recent = await store.AppendOutboxAsync([("d", Bytes("d"))]);

        Assert.Equal(2, await store.PruneOutboxAsync(T0.AddHours(1)));
        Assert.Equal(["c", "d"], (await store.UndeliveredAsync(10)).Select(e => e.DecisionId));

        await store.MarkDeliveredAsync(recent[0].Ordinal);
        Assert.Equal(1, await store.PruneOutboxAsync(T0.AddHours(1))); // c: old and now delivered; d is too recent
        Assert.Equal(0, await store.PruneOutboxAsync(T0.AddHours(1)));
        Assert.Equal(1, await store.PruneOutboxAsync(T0.AddHours(3)));

        // Ordinals are not reused after a prune, so the cursor still means what it meant.
        var again = await store.AppendOutboxAsync([("e", Bytes("e"))]);
        Assert.True(again[0].Ordinal > recent[0].Ordinal);
        Assert.Equal(["e"], (await store.UndeliveredAsync(10)).Select(e => e.DecisionId));
    }

    [Fact]
    public async Task Given_meta_When_set_twice_Then_the_last_value_is_read()
    {
        var store = await OpenAsync();
        Assert.Null(await store.GetMetaAsync("ingest.checkpoint"));
        await store.SetMetaAsync("ingest.checkpoint", "41");
        await store.SetMetaAsync("ingest.checkpoint", "42");
        Assert.Equal("42", await store.GetMetaAsync("ingest.checkpoint"));
    }

    [Fact]
    public async Task Given_data_When_the_store_is_closed_and_reopened_Then_everything_is_still_there()
    {
        var store = await OpenAsync();
        await store.SaveAsync([State("c", "alice", "a1", 7, T0)]);
        var entries = await store.AppendOutboxAsync([("d1", Bytes("one")), ("d2", Bytes("two"))]);
        await store.MarkDeliveredAsync(entries[0].Ordinal);
        await store.SetMetaAsync("k", "v");
        await store.DisposeAsync();
        _opened.Remove(store);

        var reopened = await OpenAsync();
        var alice = Assert.Single(await reopened.LoadAsync("c", ["alice"]));
        Assert.Equal(("a1", 7L, (DateTimeOffset?)T0), (Text(alice.State), alice.AppliedSeq, alice.NextDue));
        Assert.Equal([("alice", T0)], await reopened.DueAsync("c", T0, null, 10));
        Assert.Equal(["d2"], (await reopened.UndeliveredAsync(10)).Select(e => e.DecisionId));
        Assert.Empty(await reopened.AppendOutboxAsync([("d1", Bytes("again"))]));
        Assert.Equal("v", await reopened.GetMetaAsync("k"));
    }

    [Fact]
    public async Task Given_10000_concurrent_saves_When_batched_Then_all_land_in_few_transactions()
    {
        var store = await OpenAsync();
        await using var batcher = new StateBatcher(store);
        var saves = Enumerable.Range(0, 10_000).Select(i => Task.Run(() => batcher.SaveAsync(State("c", $"u{i}", $"s{i}", i)))).ToArray();
        await Task.WhenAll(saves);

        Assert.Equal(10_000, await store.CountAsync("c"));
        Assert.True(batcher.LargestBatch > 1, $"largest batch {batcher.LargestBatch}");
        Assert.True(batcher.TransactionsCommitted < 10_000 / 2, $"{batcher.TransactionsCommitted} transactions");

        var loads = Enumerable.Range(0, 10_000).Select(i => batcher.LoadAsync("c", $"u{i}")).Append(batcher.LoadAsync("c", "missing")).ToArray();
        var loaded = await Task.WhenAll(loads);
        Assert.All(Enumerable.Range(0, 10_000), i => Assert.Equal($"s{i}", Text(loaded[i]!.State)));
        Assert.Null(loaded[^1]);
        Assert.True(batcher.LoadQueries < 10_000 / 2, $"{batcher.LoadQueries} load queries");
    }

    [Fact]
    public async Task Given_a_save_not_yet_committed_When_loaded_Then_the_pending_value_is_returned()
    {
        var gated = new GatedStore(await OpenAsync());
        await using var batcher = new StateBatcher(gated);
        await batcher.SaveAsync(State("c", "alice", "v1"));
        await batcher.SaveAsync(State("c", "bob", "b1"));

        gated.Close();
        var inFlight = batcher.SaveAsync(State("c", "alice", "v2")); // taken by the loop, held in the store
        await gated.Entered;
        var queued = batcher.DeleteAsync("c", "bob"); // behind it in the queue
        var queuedNew = batcher.SaveAsync(State("c", "carol", "c1"));

        Assert.Equal("v2", Text((await batcher.LoadAsync("c", "alice"))!.State));
        Assert.Null(await batcher.LoadAsync("c", "bob"));
        Assert.Equal("c1", Text((await batcher.LoadAsync("c", "carol"))!.State));
        // The store itself does not have them yet: the batcher answered from what is pending.
        Assert.Equal(["alice:v1", "bob:b1"], (await gated.LoadAsync("c", ["alice", "bob", "carol"]))
            .OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => $"{s.Id}:{Text(s.State)}"));
        Assert.False(inFlight.IsCompleted || queued.IsCompleted || queuedNew.IsCompleted);

        gated.Open();
        await Task.WhenAll(inFlight, queued, queuedNew);
        Assert.Equal(["alice:v2", "carol:c1"], (await gated.LoadAsync("c", ["alice", "bob", "carol"]))
            .OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => $"{s.Id}:{Text(s.State)}"));
        Assert.Equal("v2", Text((await batcher.LoadAsync("c", "alice"))!.State));
        Assert.Null(await batcher.LoadAsync("c", "bob"));
    }

    [Fact]
    public async Task Given_a_save_held_back_When_the_key_is_saved_again_and_others_are_saved_Then_others_commit_and_the_key_waits_in_order()
    {
        var store = await OpenAsync();
        await using var batcher = new StateBatcher(store);
        var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // A restarted entity's last state, held until its output is recorded; then the new instance saves again.
        var held = batcher.SaveAfterAsync(recorded.Task, State("c", "alice", "v1"));
        var later = batcher.SaveAsync(State("c", "alice", "v2"));
        await batcher.SaveAsync(State("c", "bob", "b1")); // other keys are not held

        Assert.Equal("v2", Text((await batcher.LoadAsync("c", "alice"))!.State));
        Assert.Equal(["bob"], (await store.LoadAsync("c", ["alice", "bob"])).Select(s => s.Id));
        Assert.False(held.IsCompleted || later.IsCompleted);

        recorded.SetResult();
        await Task.WhenAll(held, later);
        Assert.Equal("v2", Text(Assert.Single(await store.LoadAsync("c", ["alice"])).State));
        // Nothing stays held: the next save of the key commits on its own.
        await batcher.SaveAsync(State("c", "alice", "v3")).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("v3", Text(Assert.Single(await store.LoadAsync("c", ["alice"])).State));
    }

    [Fact]
    public async Task Given_saves_and_deletes_of_one_key_When_batched_together_or_apart_Then_the_last_one_wins()
    {
        var gated = new GatedStore(await OpenAsync());
        await using var batcher = new StateBatcher(gated);

        // Apart: each in its own transaction.
        await batcher.SaveAsync(State("c", "k", "v1"));
        await batcher.DeleteAsync("c", "k");
        Assert.Null(await batcher.LoadAsync("c", "k"));
        await batcher.SaveAsync(State("c", "k", "v2"));
        Assert.Equal("v2", Text((await batcher.LoadAsync("c", "k"))!.State));

        // Together: held behind a write in flight, they drain into one batch.
        gated.Close();
        var holder = batcher.SaveAsync(State("c", "holder", "h"));
        await gated.Entered;
        var together = new[]
        {
            batcher.SaveAsync(State("c", "saved-then-deleted", "x")), batcher.DeleteAsync("c", "saved-then-deleted"),
            batcher.DeleteAsync("c", "deleted-then-saved"), batcher.SaveAsync(State("c", "deleted-then-saved", "y1")),
            batcher.SaveAsync(State("c", "deleted-then-saved", "y2")), batcher.DeleteAsync("c", "k"),
        };
        var before = batcher.TransactionsCommitted;
        gated.Open();
        await holder;
        await Task.WhenAll(together);
        Assert.Equal(before + 2, batcher.TransactionsCommitted);
        Assert.True(batcher.LargestBatch >= together.Length);

        var stored = await gated.LoadAsync("c", ["saved-then-deleted", "deleted-then-saved", "k"]);
        Assert.Equal(["deleted-then-saved:y2"], stored.Select(s => $"{s.Id}:{Text(s.State)}"));
    }

    [Fact]
    public async Task Given_a_batch_that_fails_When_the_next_writes_come_Then_they_commit_and_the_failed_value_is_not_read()
    {
        var gated = new GatedStore(await OpenAsync());
        await using var batcher = new StateBatcher(gated);
        await batcher.SaveAsync(State("c", "alice", "v1"));

        gated.FailNextWrite = true;
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.SaveAsync(State("c", "alice", "v2")));
        Assert.Equal("write refused", failed.Message);
        Assert.Equal("v1", Text((await batcher.LoadAsync("c", "alice"))!.State));

        await batcher.SaveAsync(State("c", "alice", "v3"));
        Assert.Equal("v3", Text((await batcher.LoadAsync("c", "alice"))!.State));
    }

    [Fact]
    public async Task Given_owned_rows_of_owners_whose_ids_prefix_each_other_When_loaded_by_owner_Then_each_gets_exactly_its_own()
    {
        var store = await OpenAsync();
        // "p1" is a prefix of "p10"; the third owner's id holds the separator itself.
        string[] owners = ["p1", "p10", "p1\u001Fa", "p"];
        await store.SaveAsync(owners.SelectMany(o => new[] { "b", "a", "a\u001Fz" }
            .Select(row => State(OwnedRows.InterestKind, OwnedRows.Key(o, row), $"{o}/{row}", 0))).ToList());
        await store.SaveAsync([State("p", "p1", "the product itself")]);

        foreach (var owner in owners)
        {
            var prefix = OwnedRows.Prefix(owner);
            var rows = await store.LoadRowsAsync(OwnedRows.InterestKind, prefix);
            Assert.Equal(["a", "a\u001Fz", "b"], rows.Select(r => OwnedRows.RowId(r.Id, prefix)));
            Assert.All(rows, r => Assert.StartsWith($"{owner}/", Text(r.State)));
        }
        Assert.Empty(await store.LoadRowsAsync(OwnedRows.InterestKind, OwnedRows.Prefix("p2")));
    }

    private static StoredState Interest(string customer, params string[] evidence) =>
        new(OwnedRows.InterestKind, OwnedRows.Key("sku", customer), StateCodec.ApplyInterestSteps(null, Steps(evidence)), 0, null);

    private static byte[] Steps(params string[] evidence) =>
        StateCodec.EncodeInterestSteps(evidence.Select((id, i) => new InterestStep(id, T0.AddMinutes(i), 10m - i, false)));

    private static (string, string) InterestKey(string customer) => (OwnedRows.InterestKind, OwnedRows.Key("sku", customer));

    /// <summary>customer: evidence ids, for every interest row of "sku".</summary>
    private static async Task<string[]> InterestsOf(StateBatcher batcher) =>
        (await batcher.LoadOwnedRowsAsync("p", "sku", OwnedRows.InterestKind))
        .Select(r => $"{OwnedRows.RowId(r.Id, OwnedRows.Prefix("sku"))}:{string.Join(",", StateCodec.DecodeInterest(r.State).Evidence)}").ToArray();

    [Fact]
    public async Task Given_merges_of_interest_steps_When_written_Then_each_applies_in_order_to_the_stored_row_or_starts_one()
    {
        var store = await OpenAsync();
        await store.SaveAsync([Interest("alice", "a1")]);
        await store.WriteAsync([], [], [
            new RowMerge(OwnedRows.InterestKind, OwnedRows.Key("sku", "alice"), [Steps("m1"), Steps("a1", "m2")]),
            new RowMerge(OwnedRows.InterestKind, OwnedRows.Key("sku", "bob"), [Steps("b1")]),
            new RowMerge(OwnedRows.InterestKind, OwnedRows.Key("sku", "alice"), [Steps("m3")]),
        ]);

        var rows = await store.LoadRowsAsync(OwnedRows.InterestKind, OwnedRows.Prefix("sku"));
        var alice = StateCodec.DecodeInterest(rows.Single(r => r.Id == OwnedRows.Key("sku", "alice")).State);
        Assert.Equal(["a1", "m1", "m2", "m3"], alice.Evidence); // a1 again is a replay: counted once
        Assert.Equal(9m, alice.LowestSeenPrice); // m2, second step of its delta: seen at 10 - 1
        Assert.Equal(["b1"], StateCodec.DecodeInterest(rows.Single(r => r.Id == OwnedRows.Key("sku", "bob")).State).Evidence);
    }

    [Fact]
    public async Task Given_saves_with_owned_rows_When_batched_together_or_apart_Then_rows_commit_with_their_owner_in_write_order()
    {
        var gated = new GatedStore(await OpenAsync());
        await using var batcher = new StateBatcher(gated);

        await batcher.SaveAsync(State("p", "sku", "v1"), new RowChanges([Interest("alice", "a1"), Interest("bob", "b1")], [], []));
        Assert.Equal(["alice:a1", "bob:b1"], await InterestsOf(batcher));

        // Held behind a write in flight, two saves of the owner drain into one batch: per row, a replacement (save or
        // delete) wins over what came before it and a merge goes on top of what came before it.
        gated.Close();
        var holder = batcher.SaveAsync(State("c", "holder", "h"));
        await gated.Entered;
        var first = batcher.SaveAsync(State("p", "sku", "v2"), new RowChanges([Interest("carol", "c1")], [InterestKey("bob")],
            [(OwnedRows.InterestKind, OwnedRows.Key("sku", "alice"), Steps("a2")), (OwnedRows.InterestKind, OwnedRows.Key("sku", "dave"), Steps("d1"))]));
        var second = batcher.SaveAsync(State("p", "sku", "v3"), new RowChanges([Interest("dave", "d9")], [InterestKey("carol")],
            [(OwnedRows.InterestKind, OwnedRows.Key("sku", "alice"), Steps("a3")), (OwnedRows.InterestKind, OwnedRows.Key("sku", "bob"), Steps("b2"))]));
        // A load waits for the owner's pending writes: their rows are not anywhere else.
        var loading = batcher.LoadOwnedRowsAsync("p", "sku", OwnedRows.InterestKind);
        await Task.Delay(50);
        Assert.False(loading.IsCompleted);
        gated.Open();
        await Task.WhenAll(holder, first, second);

        Assert.Equal(3, (await loading).Count);
        // carol: saved, then deleted. bob: deleted, then a step. alice: two deltas on the stored row. dave: a step, then saved.
        Assert.Equal(["alice:a1,a2,a3", "bob:b2", "dave:d9"], await InterestsOf(batcher));
        Assert.Equal("v3", Text((await batcher.LoadAsync("p", "sku"))!.State));
        var alice = Assert.Single(await batcher.LoadOwnedRowsAsync("p", "sku", OwnedRows.InterestKind, "alice"));
        Assert.Equal(["a1", "a2", "a3"], StateCodec.DecodeInterest(alice.State).Evidence);

        // A failed write takes its rows with it.
        gated.FailNextWrite = true;
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            batcher.SaveAsync(State("p", "sku", "v4"), new RowChanges([Interest("erin", "e1")], [], [])));
        Assert.Equal(["alice:a1,a2,a3", "bob:b2", "dave:d9"], await InterestsOf(batcher));
    }

    [Fact]
    public async Task Given_a_catalog_line_touching_200_products_at_once_When_each_reads_its_interests_Then_only_a_few_reads_reach_the_store_at_a_time()
    {
        var gated = new GatedStore(await OpenAsync());
        await using var batcher = new StateBatcher(gated);
        await batcher.SaveAsync(State("p", "sku-7", "v1"), new RowChanges([Interest("alice", "a1") with { Id = OwnedRows.Key("sku-7", "alice") }], [], []));

        var reads = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            Task.Run(() => batcher.LoadOwnedRowsAsync("p", $"sku-{i}", OwnedRows.InterestKind))));

        Assert.InRange(gated.MostConcurrentRowReads, 1, 4);
        Assert.Single(reads[7]);
        Assert.Equal(199, reads.Count(r => r.Count == 0));
    }

    [Fact]
    public async Task Given_a_disposed_batcher_When_used_Then_it_refuses_after_draining_what_it_had()
    {
        var store = await OpenAsync();
        var batcher = new StateBatcher(store);
        var last = batcher.SaveAsync(State("c", "alice", "v1"));
        await batcher.DisposeAsync();
        Assert.True(last.IsCompletedSuccessfully);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => batcher.SaveAsync(State("c", "bob", "b")));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => batcher.LoadAsync("c", "bob"));
        Assert.Single(await store.LoadAsync("c", ["alice"]));
    }
}

/// <summary>A clock the tests move by hand (stamps outbox rows).</summary>
public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// The real store with a gate on its writes, so that a test can hold a batch in flight (and see what the batcher
/// answers meanwhile) or make one write fail. Everything else goes straight through.
/// </summary>
public sealed class GatedStore(IStateStore inner) : IStateStore
{
    private TaskCompletionSource _open = Opened();
    private TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool FailNextWrite { get; set; }

    /// <summary>Completes when a write reached the closed gate.</summary>
    public Task Entered => _entered.Task;

    public void Close()
    {
        _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Open() => _open.TrySetResult();

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    public async Task WriteAsync(IReadOnlyList<StoredState> saves, IReadOnlyCollection<(string Kind, string Id)> deletes,
        IReadOnlyList<RowMerge>? merges = null, CancellationToken ct = default)
    {
        _entered.TrySetResult();
        await _open.Task;
        if (FailNextWrite)
        {
            FailNextWrite = false;
            throw new InvalidOperationException("write refused");
        }
        await inner.WriteAsync(saves, deletes, merges, ct);
    }

    public Task InitializeAsync(CancellationToken ct = default) => inner.InitializeAsync(ct);
    public Task<IReadOnlyList<StoredState>> LoadAsync(string kind, IReadOnlyCollection<string> ids, CancellationToken ct = default) => inner.LoadAsync(kind, ids, ct);
    /// <summary>The most row-range reads that were in the store at the same time.</summary>
    public int MostConcurrentRowReads => _mostRowReads;
    private int _rowReads, _mostRowReads;

    public async Task<IReadOnlyList<StoredState>> LoadRowsAsync(string kind, string idPrefix, CancellationToken ct = default)
    {
        var now = Interlocked.Increment(ref _rowReads);
        int most;
        while (now > (most = Volatile.Read(ref _mostRowReads)) && Interlocked.CompareExchange(ref _mostRowReads, now, most) != most) { }
        try
        {
            await Task.Delay(5, ct); // long enough for concurrent callers to overlap
            return await inner.LoadRowsAsync(kind, idPrefix, ct);
        }
        finally { Interlocked.Decrement(ref _rowReads); }
    }
    public Task SaveAsync(IReadOnlyList<StoredState> states, CancellationToken ct = default) => WriteAsync(states, [], null, ct);
    public Task DeleteAsync(string kind, string id, CancellationToken ct = default) => WriteAsync([], [(kind, id)], null, ct);
    public Task<IReadOnlyList<(string Id, DateTimeOffset Due)>> DueAsync(string kind, DateTimeOffset until, (DateTimeOffset Due, string Id)? after, int limit,
        CancellationToken ct = default) => inner.DueAsync(kind, until, after, limit, ct);
    public Task<long> CountAsync(string kind, CancellationToken ct = default) => inner.CountAsync(kind, ct);
    public Task<IReadOnlyList<OutboxEntry>> AppendOutboxAsync(IReadOnlyList<(string DecisionId, byte[] Payload)> decisions, CancellationToken ct = default) =>
        inner.AppendOutboxAsync(decisions, ct);
    public Task<IReadOnlyList<OutboxEntry>> UndeliveredAsync(int limit, CancellationToken ct = default) => inner.UndeliveredAsync(limit, ct);
    public Task MarkDeliveredAsync(long throughOrdinal, CancellationToken ct = default) => inner.MarkDeliveredAsync(throughOrdinal, ct);
    public Task<int> PruneOutboxAsync(DateTimeOffset olderThan, CancellationToken ct = default) => inner.PruneOutboxAsync(olderThan, ct);
    public Task<string?> GetMetaAsync(string key, CancellationToken ct = default) => inner.GetMetaAsync(key, ct);
    public Task SetMetaAsync(string key, string value, CancellationToken ct = default) => inner.SetMetaAsync(key, value, ct);
    public ValueTask DisposeAsync() => ValueTask.CompletedTask; // the test disposes the inner store
}
