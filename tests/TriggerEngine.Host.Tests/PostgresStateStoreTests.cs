using Npgsql;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Tests.Shared;

namespace TriggerEngine.Host.Tests;

/// <summary>
/// The state store contract on a real PostgreSQL. One server for the class; each test gets its own schema
/// (through the search path), so the tests start empty without creating a database each.
/// </summary>
public sealed class PostgresStateStoreTests(PostgresServer postgres) : StateStoreContract, IClassFixture<PostgresServer>
{
    private readonly string _schema = "t_" + Guid.NewGuid().ToString("N");

    private string ConnectionString => new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { SearchPath = _schema }.ToString();

    protected override IStateStore CreateStore(TimeProvider clock) => new PostgresStateStore(ConnectionString, clock);

    public override async Task InitializeAsync()
    {
        await using var db = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var cmd = db.CreateCommand($"CREATE SCHEMA {_schema}");
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Given_several_nodes_When_they_initialize_at_once_Then_the_schema_is_created_once_without_error()
    {
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresStateStore(ConnectionString, Clock)).ToList();
        await Task.WhenAll(stores.Select(s => s.InitializeAsync()));
        await stores[0].SaveAsync([State("c", "alice", "a")]);
        Assert.Single(await stores[3].LoadAsync("c", ["alice"]));
        foreach (var s in stores) await s.DisposeAsync();
    }

    [Fact]
    public async Task Given_the_timer_index_When_paging_Then_the_query_can_walk_it_without_sorting()
    {
        var store = await OpenAsync();
        await store.SaveAsync([State("c", "alice", "a", 1, T0)]);
        await using var db = NpgsqlDataSource.Create(ConnectionString);
        await using var conn = await db.OpenConnectionAsync();
        await using (var off = new NpgsqlCommand("SET enable_seqscan = off", conn)) await off.ExecuteNonQueryAsync(); // a tiny table would be scanned
        await using var explain = new NpgsqlCommand("EXPLAIN SELECT id, next_due FROM te_entity_state WHERE kind = 'c' AND next_due IS NOT NULL " +
                                                    "AND next_due <= 5 AND (next_due, id) > (1, 'a') ORDER BY next_due, id LIMIT 10", conn);
        var plan = new List<string>();
        await using (var r = await explain.ExecuteReaderAsync())
            while (await r.ReadAsync()) plan.Add(r.GetString(0));
        Assert.Contains(plan, l => l.Contains("te_entity_state_due"));
        Assert.DoesNotContain(plan, l => l.Contains("Sort"));
    }

    [Fact]
    public async Task Given_concurrent_appenders_When_a_reader_follows_the_outbox_Then_it_never_skips_an_ordinal_it_had_not_seen()
    {
        // Several connections append at once while one reader delivers behind a cursor: with ordinals assigned in
        // commit order, nothing committed later can land below what the reader already passed.
        var store = await OpenAsync();
        var appenders = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++) await store.AppendOutboxAsync([($"w{w}-{i}-a", Bytes("x")), ($"w{w}-{i}-b", Bytes("y"))]);
        })).ToArray();
        var delivered = new HashSet<string>();
        while (true)
        {
            var done = appenders.All(a => a.IsCompleted);
            var page = await store.UndeliveredAsync(64);
            foreach (var e in page) Assert.True(delivered.Add(e.DecisionId));
            if (page.Count > 0) await store.MarkDeliveredAsync(page[^1].Ordinal);
            else if (done) break;
        }
        await Task.WhenAll(appenders);
        Assert.Equal(8 * 50 * 2, delivered.Count);
    }
}
