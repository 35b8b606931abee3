namespace TriggerEngine.Cluster.Hosting;

/// <summary>How this node joins the cluster and where it keeps state (section <c>Cluster</c> and <c>Persistence</c>).</summary>
public sealed record EngineClusterOptions
{
    /// <summary>Remoting host; loopback for the embedded default.</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>Remoting port; 0 picks a free one (fine for a single node).</summary>
    public int Port { get; init; }

    /// <summary>Seed nodes (akka.tcp://trigger-engine@host:port). None: the node forms a cluster of its own.</summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];

    public int ShardCount { get; init; } = 100;

    /// <summary>Entities idle this long are passivated (their state is saved first).</summary>
    public TimeSpan PassivateIdleAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long HTTP and timers wait for an entity to confirm before answering 503.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>This node's ingest log; stable across restarts of the node (its journal rows are keyed by it).</summary>
    public string LogId { get; init; } = "node-1";

    /// <summary>How often changed entities save their state, after which the ingest log is truncated.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Entities of a checkpoint round saving at once, doubled every half second the round runs; the rest wait their
    /// turn, so that requests arriving during a round do not queue behind every save of it. 0: all at once.</summary>
    public int CheckpointWindow { get; init; } = Ingest.IngestLog.DefaultCheckpointWindow;

    /// <summary>Customers resident on this node at most; the least recently used one saves its state and leaves memory
    /// when a new one would pass it. 0: no limit (idle passivation only).</summary>
    public int MaxResidentEntities { get; init; } = 100_000;

    /// <summary>Products resident on this node at most, a bound of their own: under one shared limit, customer churn
    /// evicted the products every customer comes back to (1.26M product restores for 50k products in a 10M replay).
    /// 0: no limit (idle passivation only).</summary>
    public int MaxResidentProducts { get; init; } = 100_000;

    /// <summary>Entities get <see cref="Entities.CompactMailbox"/> (no queue array while idle: ~250 MB less RSS at 100k
    /// resident) instead of Akka.NET's default queue (a 32-slot segment per actor; ~10 % more events/s at 1M customers
    /// in the measured runs).</summary>
    public bool CompactMailbox { get; init; } = true;

    /// <summary>Events accepted and not yet applied on this node above which ingestion answers 503.</summary>
    public long MaxPendingEvents { get; init; } = 200_000;

    /// <summary>Percent of the memory the runtime may use (its heap limit, else the machine's) that the heap is kept under:
    /// above it ingestion answers 503, timers wait and the residency limit is lowered (<see cref="Entities.MemoryGuard"/>).
    /// 0: no guard.</summary>
    public int MemoryBudgetPercent { get; init; } = Entities.MemoryGuard.DefaultBudgetPercent;

    /// <summary>The same budget in bytes, where a percent does not fit (no heap limit on a shared machine); above 0 it
    /// replaces <see cref="MemoryBudgetPercent"/>.</summary>
    public long MemoryBudgetBytes { get; init; }

    /// <summary>The heap budget in force: <see cref="MemoryBudgetBytes"/>, else the percent of what the runtime may use.</summary>
    public long MemoryBudget => MemoryBudgetBytes > 0 ? MemoryBudgetBytes : Entities.MemoryGuard.BudgetOf(MemoryBudgetPercent);

    /// <summary>Wall-clock mode: how often due timers are looked for.</summary>
    public TimeSpan TimerTick { get; init; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>Akka.Persistence.Sql settings (section <c>Persistence</c>).</summary>
public sealed record EnginePersistenceOptions
{
    /// <summary><c>sqlite</c> (embedded default) or <c>postgresql</c>.</summary>
    public string Provider { get; init; } = "sqlite";

    /// <summary>Connection string; for SQLite, empty means <c>{DataDirectory}/engine.db</c>.</summary>
    public string ConnectionString { get; init; } = "";

    public string LinqToDbProviderName => Provider.ToLowerInvariant() switch
    {
        "sqlite" => "SQLite.MS",
        "postgresql" or "postgres" => "PostgreSQL.15",
        _ => throw new ArgumentException($"Persistence:Provider '{Provider}' is not supported (sqlite, postgresql)"),
    };
}
