using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using TriggerEngine.Cluster.Persistence;

namespace TriggerEngine.Benchmarks;

/// <summary>
/// The state store through <see cref="StateBatcher"/> as the entities will use it: 100,000 states of 1 KB saved
/// by 100,000 concurrent callers (group commit), then loaded by 100,000 concurrent callers (batched point loads);
/// and, for the batcher's overhead, the same saves straight to the store in transactions of 2,000.
/// Figures are per state (OperationsPerInvoke): states/s = 1 s / Mean. Unlike the other classes this one does I/O:
/// SQLite in a temporary file (fsync per commit with <c>synchronous=FULL</c>), or PostgreSQL when the environment
/// variable <c>TE_BENCH_PG</c> holds a connection string.
/// The monitoring strategy (each invocation once, no pilot) suits an operation of a second or more.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
[MemoryDiagnoser]
public class StateStoreBenchmarks
{
    private const int States = 100_000;
    private const int StateBytes = 1024;

    [ParamsSource(nameof(Backends))]
    public string Backend { get; set; } = "sqlite-full";

    public static IEnumerable<string> Backends()
    {
        yield return "sqlite-full";
        yield return "sqlite-normal";
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("TE_BENCH_PG"))) yield return "postgres";
    }

    private string _dir = "";
    private IStateStore _store = null!;
    private StateBatcher _batcher = null!;
    private StoredState[] _states = [];
    private string[] _ids = [];
    private string[] _loadOrder = [];
    private int _round;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "trigger-engine-bench-" + Guid.NewGuid().ToString("N"));
        _store = Backend switch
        {
            "sqlite-full" => new SqliteStateStore($"Data Source={Path.Combine(_dir, "state.db")}", SqliteSync.Full),
            "sqlite-normal" => new SqliteStateStore($"Data Source={Path.Combine(_dir, "state.db")}", SqliteSync.Normal),
            _ => new PostgresStateStore(Environment.GetEnvironmentVariable("TE_BENCH_PG")!),
        };
        _store.InitializeAsync().GetAwaiter().GetResult();
        _batcher = new StateBatcher(_store);
        var random = new Random(42);
        _ids = Enumerable.Range(0, States).Select(i => $"customer-{i:D7}").ToArray();
        _states = _ids.Select(id =>
        {
            var body = new byte[StateBytes];
            random.NextBytes(body);
            return new StoredState("c", id, body, 1, Traffic.T0.AddMinutes(random.Next(0, 100_000)));
        }).ToArray();
        _store.SaveAsync(_states).GetAwaiter().GetResult(); // loads find every id; saves are updates, as checkpoints are
        // Loads come in no particular order (entities wake as their events arrive): neighbours in a batch are not
        // neighbours in the B-tree. In id order the same loads ran about 1.5x as fast.
        _loadOrder = _ids.OrderBy(_ => random.Next()).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batcher.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Each round saves a new applied sequence, so that no write is a no-op.</summary>
    private StoredState[] NextRound()
    {
        var seq = ++_round;
        return _states.Select(s => s with { AppliedSeq = seq }).ToArray();
    }

    private StoredState[] _roundStates = [];

    [IterationSetup(Targets = [nameof(Save_ThroughBatcher), nameof(Save_Direct_2000PerTransaction)])]
    public void NewRound() => _roundStates = NextRound();

    [Benchmark(OperationsPerInvoke = States)]
    public Task Save_ThroughBatcher()
    {
        var saves = new Task[States];
        for (var i = 0; i < States; i++) saves[i] = _batcher.SaveAsync(_roundStates[i]);
        return Task.WhenAll(saves);
    }

    [Benchmark(OperationsPerInvoke = States)]
    public async Task Save_Direct_2000PerTransaction()
    {
        foreach (var chunk in _roundStates.Chunk(2000)) await _store.SaveAsync(chunk);
    }

    [Benchmark(OperationsPerInvoke = States)]
    public async Task<int> Load_ThroughBatcher()
    {
        var loads = new Task<StoredState?>[States];
        for (var i = 0; i < States; i++) loads[i] = _batcher.LoadAsync("c", _loadOrder[i]);
        var found = await Task.WhenAll(loads);
        return found.Count(s => s is not null);
    }
}
