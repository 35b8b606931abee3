using Microsoft.Data.Sqlite;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Tests.Shared;

namespace TriggerEngine.Cluster.Tests;

/// <summary>The state store contract on SQLite, each test in its own temporary file; plus what only SQLite has.</summary>
public sealed class SqliteStateStoreTests : StateStoreContract
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "trigger-engine-tests", "state-" + Guid.NewGuid().ToString("N"));

    private string ConnectionString => $"Data Source={Path.Combine(_dir, "state.db")}";

    /// <summary>The engine's mode: commits are fsynced with the next meta write.</summary>
    protected override IStateStore CreateStore(TimeProvider clock) => new SqliteStateStore(ConnectionString, SqliteSync.Normal, clock: clock);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Given_a_new_store_When_initialized_Then_the_file_is_in_wal_mode_with_the_partial_timer_index()
    {
        await OpenAsync();
        await using var db = new SqliteConnection(ConnectionString + ";Pooling=false");
        await db.OpenAsync();
        Assert.Equal("wal", Scalar(db, "PRAGMA journal_mode"));
        Assert.Equal("4096", Scalar(db, "PRAGMA page_size"));
        Assert.Contains("WHERE next_due IS NOT NULL", Scalar(db, "SELECT sql FROM sqlite_master WHERE name = 'entity_state_due'"));
        // The paging query walks the index rather than sorting the table.
        var plan = Scalar(db, "EXPLAIN QUERY PLAN SELECT id, next_due FROM entity_state WHERE kind = 'c' AND next_due IS NOT NULL " +
                              "AND next_due <= 5 AND (next_due, id) > (1, 'a') ORDER BY next_due, id LIMIT 10", column: 3);
        Assert.Contains("entity_state_due", plan);
        Assert.DoesNotContain("TEMP B-TREE", plan);
    }

    [Fact]
    public async Task Given_synchronous_full_When_chosen_Then_the_store_works_the_same()
    {
        await using var store = new SqliteStateStore(ConnectionString, SqliteSync.Full);
        await store.InitializeAsync();
        await store.SaveAsync([State("c", "alice", "a")]);
        await store.SetMetaAsync("checkpoint", "7");
        Assert.Single(await store.LoadAsync("c", ["alice"]));
        Assert.Equal("7", await store.GetMetaAsync("checkpoint"));
    }

    [Fact]
    public async Task Given_a_file_made_with_the_earlier_layout_When_the_store_opens_it_Then_it_reads_writes_and_pages_timers_alike()
    {
        Directory.CreateDirectory(_dir);
        await using (var old = new SqliteConnection(ConnectionString + ";Pooling=false"))
        {
            await old.OpenAsync();
            Scalar(old, "PRAGMA page_size=16384");
            Scalar(old, "PRAGMA journal_mode=WAL");
            Scalar(old, """
                CREATE TABLE entity_state (kind TEXT NOT NULL, id TEXT NOT NULL, state BLOB NOT NULL, applied_seq INTEGER NOT NULL,
                    next_due INTEGER NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID;
                CREATE INDEX entity_state_due ON entity_state (kind, next_due, id) WHERE next_due IS NOT NULL;
                INSERT INTO entity_state VALUES ('c', 'alice', x'0102', 7, 1000);
                """);
        }

        await using var store = new SqliteStateStore(ConnectionString);
        await store.InitializeAsync();
        var alice = Assert.Single(await store.LoadAsync("c", ["alice"]));
        Assert.Equal(7, alice.AppliedSeq);
        Assert.Equal(new byte[] { 1, 2 }, alice.State);
        Assert.Equal("alice", Assert.Single(await store.DueAsync("c", DateTimeOffset.FromUnixTimeMilliseconds(2000), null, 10)).Id);
        await store.SaveAsync([State("c", "alice", "a") with { AppliedSeq = 8 }, State("c", "bob", "b")]);
        Assert.Equal(["alice", "bob"], (await store.LoadAsync("c", ["alice", "bob"])).Select(s => s.Id).Order());
        Assert.Equal(8, (await store.LoadAsync("c", ["alice"]))[0].AppliedSeq);
        await using var db = new SqliteConnection(ConnectionString + ";Pooling=false");
        await db.OpenAsync();
        Assert.Equal("16384", Scalar(db, "PRAGMA page_size"));
        Assert.Contains("WITHOUT ROWID", Scalar(db, "SELECT sql FROM sqlite_master WHERE name = 'entity_state'"));
    }

    [Fact]
    public void Given_an_in_memory_data_source_When_constructed_Then_it_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new SqliteStateStore("Data Source=:memory:"));
    }

    private static string Scalar(SqliteConnection db, string sql, int column = 0)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read()) rows.Add(r.GetValue(column).ToString()!);
        return string.Join("\n", rows);
    }
}
