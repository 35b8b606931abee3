namespace TriggerEngine.Host.Tests;

/// <summary>The journal on PostgreSQL (the cluster setup): schema created on start, state survives a restart.</summary>
public sealed class PostgresPersistenceTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);

    private Dictionary<string, string> OnPostgres() => new()
    {
        ["Persistence:Provider"] = "postgresql",
        ["Persistence:ConnectionString"] = postgres.ConnectionString,
    };

    [Fact]
    public async Task Given_the_journal_on_postgresql_When_the_engine_restarts_Then_the_open_cart_still_fires_once()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "trigger-engine-tests", Guid.NewGuid().ToString("N"));
        var first = await EngineProcess.StartAsync(settings: OnPostgres(), dataDirectory: dataDir);
        await first.Consent("pg-alice");
        await first.Batch(Calls.Added("pg-alice", T0));
        await first.StopKeepingDataAsync();
        // The SQLite journal is not involved: only the consent store and watermark stay in the data directory.
        Assert.False(File.Exists(Path.Combine(dataDir, "engine.db")));

        await using var second = await EngineProcess.StartAsync(settings: OnPostgres(), dataDirectory: dataDir);
        await second.Watermark(T0.AddHours(1));

        Assert.Equal([("sent", (string?)null)], await second.Finals("pg-alice", "abandoned_cart"));
        await second.Watermark(T0.AddHours(2));
        Assert.Single(await second.Finals("pg-alice", "abandoned_cart"));
    }
}
