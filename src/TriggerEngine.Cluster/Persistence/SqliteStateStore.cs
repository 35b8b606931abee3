using Microsoft.Data.Sqlite;

namespace TriggerEngine.Cluster.Persistence;

/// <summary>How durable a SQLite commit is.</summary>
public enum SqliteSync
{
    /// <summary>The WAL is fsynced at every commit: a committed batch survives a power loss.</summary>
    Full,
    /// <summary>The WAL is fsynced at WAL checkpoints and at every meta write (<see cref="SqliteStateStore.SetMetaAsync"/>,
    /// e.g. the ingest log's checkpoint position), which makes every commit before it durable too. Survives a process
    /// crash; a power loss may take back the commits since the last meta write, never one before it.</summary>
    Normal,
}

/// <summary>
/// The state store in its own SQLite file (e.g. <c>Data Source=&lt;dir&gt;/state.db</c>), in WAL mode.
/// SQLite has one writer at a time, so there is ONE writer connection behind a semaphore with its statements
/// prepared once; reads go to a small pool of read-only connections that WAL lets run beside the writer.
/// Microsoft.Data.Sqlite runs its "async" calls synchronously: a call holds its thread for the query (and the
/// fsync, on writes). <see cref="StateBatcher"/> keeps that to its two loops, plus the pool threads a load of more
/// than one IN list spreads over.
/// </summary>
public sealed class SqliteStateStore : IStateStore
{
    /// <summary>Ids per IN list; far under SQLite's 32,766 host parameters, and big enough that a query's fixed cost is small.</summary>
    internal const int LoadChunk = 500;

    /// <summary>IN lists are padded (by repeating the last id) to one of these sizes, so a reader keeps a handful of
    /// prepared statements instead of one per list length.</summary>
    private static readonly int[] InListSizes = [1, 8, 32, 128, LoadChunk];

    private const string Schema = """
        -- A rowid table, not WITHOUT ROWID: its leaf keeps a state of up to ~4 KB inline on a 4 KB page, where a
        -- WITHOUT ROWID row spills past ~1 KB. Files made before keep their layout (16 KB pages, WITHOUT ROWID); every
        -- statement reads and writes both alike.
        CREATE TABLE IF NOT EXISTS entity_state (
            kind TEXT NOT NULL, id TEXT NOT NULL, state BLOB NOT NULL, applied_seq INTEGER NOT NULL,
            next_due INTEGER NULL, -- unix ms, UTC
            UNIQUE (kind, id));
        -- The durable timer index: only entities with a timer are in it.
        CREATE INDEX IF NOT EXISTS entity_state_due ON entity_state (kind, next_due, id) WHERE next_due IS NOT NULL;
        -- AUTOINCREMENT: an ordinal is never reused after a prune, so the delivered cursor stays meaningful.
        CREATE TABLE IF NOT EXISTS outbox (
            ordinal INTEGER PRIMARY KEY AUTOINCREMENT, decision_id TEXT NOT NULL UNIQUE, payload BLOB NOT NULL,
            created_at INTEGER NOT NULL); -- unix ms, UTC
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        """;

    private const string Columns = "kind, id, state, applied_seq, next_due";
    private const string Cursor = $"COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{StoreRows.DeliveredCursorKey}'), 0)";

    private readonly string _writerConnectionString;
    private readonly SqliteSync _sync;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SqliteReaderPool _readers;
    private readonly int _readerCount;
    private SqliteWriter? _writer;

    /// <param name="connectionString">A file data source; <c>:memory:</c> is not supported (each connection would see its own database).</param>
    /// <param name="sync">Durability of each commit; <see cref="SqliteSync.Full"/> unless the caller accepts losing the last commits on power loss.</param>
    /// <param name="readers">Read connections; reads beyond this many wait for one.</param>
    /// <param name="clock">Stamps outbox rows (their age decides pruning).</param>
    public SqliteStateStore(string connectionString, SqliteSync sync = SqliteSync.Full, int readers = 4, TimeProvider? clock = null)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            // This class keeps its own connections open; the driver's pool would only add a second layer.
            Pooling = false,
            Mode = SqliteOpenMode.ReadWriteCreate,
        };
        if (string.IsNullOrEmpty(builder.DataSource) || builder.DataSource == ":memory:")
            throw new ArgumentException("SqliteStateStore needs a file data source", nameof(connectionString));
        var dir = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        _writerConnectionString = builder.ToString();
        _sync = sync;
        _clock = clock ?? TimeProvider.System;
        _readerCount = Math.Max(1, readers);
        _readers = new SqliteReaderPool(builder.ToString(), _readerCount);
    }

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await _writeGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _writer ??= new SqliteWriter(_writerConnectionString, _sync, Schema);
        }
        finally { _writeGate.Release(); }
    }

    private SqliteWriter Writer => _writer ?? throw new InvalidOperationException("InitializeAsync first");

    public async Task<IReadOnlyList<StoredState>> LoadAsync(string kind, IReadOnlyCollection<string> ids, CancellationToken ct = default)
    {
        if (ids.Count == 0) return [];
        if (ids.Count <= LoadChunk) return await _readers.ReadAsync(r => LoadChunks(r, kind, [ids.ToArray()]), ct).ConfigureAwait(false);
        // Several IN lists: spread them over the readers. The driver is synchronous, so each share runs on a pool
        // thread; random B-tree lookups cost CPU, and this is where a batch of thousands of loads spends its time.
        var chunks = ids.Chunk(LoadChunk).ToArray();
        var shares = Math.Min(_readerCount, chunks.Length);
        var parts = await Task.WhenAll(Enumerable.Range(0, shares).Select(s =>
            Task.Run(() => _readers.ReadAsync(r => LoadChunks(r, kind, chunks.Where((_, i) => i % shares == s)), ct), ct))).ConfigureAwait(false);
        return parts.Length == 1 ? parts[0] : parts.SelectMany(p => p).ToList();
    }

    private static List<StoredState> LoadChunks(SqliteReader r, string kind, IEnumerable<string[]> chunks)
    {
        var found = new List<StoredState>();
        foreach (var chunk in chunks)
        {
            var size = InListSizes.First(s => s >= chunk.Length);
            var cmd = r.Command(InListSqls[size], InListParameterNames[size]);
            cmd.Parameters[0].Value = kind;
            for (var i = 0; i < size; i++) cmd.Parameters[i + 1].Value = chunk[Math.Min(i, chunk.Length - 1)];
            using var row = cmd.ExecuteReader();
            while (row.Read()) found.Add(ReadState(row));
        }
        return found;
    }

    private static readonly Dictionary<int, string> InListSqls = InListSizes.ToDictionary(n => n,
        n => $"SELECT {Columns} FROM entity_state WHERE kind = $k AND id IN ({string.Join(", ", Enumerable.Range(0, n).Select(i => "$i" + i))})");
    private static readonly Dictionary<int, string[]> InListParameterNames = InListSizes.ToDictionary(n => n,
        n => Enumerable.Range(0, n).Select(i => "$i" + i).Prepend("$k").ToArray());

    private static StoredState ReadState(SqliteDataReader row) => new(
        row.GetString(0), row.GetString(1), row.GetFieldValue<byte[]>(2), row.GetInt64(3),
        row.IsDBNull(4) ? null : StoreRows.FromUnixMs(row.GetInt64(4)));

    public Task<IReadOnlyList<StoredState>> LoadRowsAsync(string kind, string idPrefix, CancellationToken ct = default) =>
        _readers.ReadAsync<IReadOnlyList<StoredState>>(r =>
        {
            // A range on the primary key (BINARY collation compares bytes): a seek and a short scan.
            var cmd = r.Command($"SELECT {Columns} FROM entity_state WHERE kind = $k AND id >= $lo AND id < $hi ORDER BY id", "$k", "$lo", "$hi");
            cmd.Parameters[0].Value = kind;
            cmd.Parameters[1].Value = idPrefix;
            cmd.Parameters[2].Value = StoreRows.PrefixEnd(idPrefix);
            var found = new List<StoredState>();
            using var row = cmd.ExecuteReader();
            while (row.Read()) found.Add(ReadState(row));
            return found;
        }, ct);

    public Task SaveAsync(IReadOnlyList<StoredState> states, CancellationToken ct = default) => WriteAsync(states, [], null, ct);

    public Task WriteAsync(IReadOnlyList<StoredState> saves, IReadOnlyCollection<(string Kind, string Id)> deletes,
        IReadOnlyList<RowMerge>? merges = null, CancellationToken ct = default)
    {
        if (saves.Count == 0 && deletes.Count == 0 && (merges is null || merges.Count == 0)) return Task.CompletedTask;
        // Row by row through one prepared statement: SQLite runs in-process, so a row costs microseconds, and
        // executing in order makes the later of two saves of a key win without sorting anything out first.
        return InWriteTransactionAsync(w =>
        {
            foreach (var s in saves) w.Upsert(s);
            foreach (var (kind, id) in deletes) w.Delete(kind, id);
            // Read on the writer, inside the transaction: the page the upsert then changes is already at hand.
            foreach (var m in merges ?? [])
                w.Upsert(new StoredState(m.Kind, m.Id, OwnedRows.Merge(m.Kind, w.ReadState(m.Kind, m.Id), m.Deltas), 0, null));
            return 0;
        }, ct);
    }

    public Task DeleteAsync(string kind, string id, CancellationToken ct = default) => WriteAsync([], [(kind, id)], null, ct);

    public Task<IReadOnlyList<(string Id, DateTimeOffset Due)>> DueAsync(string kind, DateTimeOffset until, (DateTimeOffset Due, string Id)? after,
        int limit, CancellationToken ct = default) =>
        _readers.ReadAsync<IReadOnlyList<(string, DateTimeOffset)>>(r =>
        {
            // The row-value comparison walks the (kind, next_due, id) partial index from the page boundary on.
            const string first = "SELECT id, next_due FROM entity_state WHERE kind = $k AND next_due IS NOT NULL AND next_due <= $until " +
                                 "ORDER BY next_due, id LIMIT $n";
            const string next = "SELECT id, next_due FROM entity_state WHERE kind = $k AND next_due IS NOT NULL AND next_due <= $until " +
                                "AND (next_due, id) > ($due, $id) ORDER BY next_due, id LIMIT $n";
            var cmd = after is null ? r.Command(first, "$k", "$until", "$n") : r.Command(next, "$k", "$until", "$n", "$due", "$id");
            cmd.Parameters[0].Value = kind;
            cmd.Parameters[1].Value = StoreRows.ToUnixMs(until);
            cmd.Parameters[2].Value = limit;
            if (after is { } a)
            {
                cmd.Parameters[3].Value = StoreRows.ToUnixMs(a.Due);
                cmd.Parameters[4].Value = a.Id;
            }
            var due = new List<(string, DateTimeOffset)>(Math.Min(limit, 1024));
            using var row = cmd.ExecuteReader();
            while (row.Read()) due.Add((row.GetString(0), StoreRows.FromUnixMs(row.GetInt64(1))));
            return due;
        }, ct);

    public Task<long> CountAsync(string kind, CancellationToken ct = default) =>
        _readers.ReadAsync(r =>
        {
            var cmd = r.Command("SELECT COUNT(*) FROM entity_state WHERE kind = $k", "$k");
            cmd.Parameters[0].Value = kind;
            return (long)cmd.ExecuteScalar()!;
        }, ct);

    public Task<IReadOnlyList<OutboxEntry>> AppendOutboxAsync(IReadOnlyList<(string DecisionId, byte[] Payload)> decisions, CancellationToken ct = default)
    {
        if (decisions.Count == 0) return Task.FromResult<IReadOnlyList<OutboxEntry>>([]);
        var now = StoreRows.ToUnixMs(_clock.GetUtcNow());
        // One writer: ordinals are handed out in commit order, which is what the delivered cursor needs.
        return InWriteTransactionAsync<IReadOnlyList<OutboxEntry>>(w =>
        {
            var inserted = new List<OutboxEntry>();
            foreach (var (decisionId, payload) in decisions)
                if (w.AppendOutbox(decisionId, payload, now) is { } ordinal)
                    inserted.Add(new OutboxEntry(ordinal, decisionId, payload));
            return inserted;
        }, ct);
    }

    public Task<IReadOnlyList<OutboxEntry>> UndeliveredAsync(int limit, CancellationToken ct = default) =>
        _readers.ReadAsync<IReadOnlyList<OutboxEntry>>(r =>
        {
            var cmd = r.Command($"SELECT ordinal, decision_id, payload FROM outbox WHERE ordinal > {Cursor} ORDER BY ordinal LIMIT $n", "$n");
            cmd.Parameters[0].Value = limit;
            var entries = new List<OutboxEntry>();
            using var row = cmd.ExecuteReader();
            while (row.Read()) entries.Add(new OutboxEntry(row.GetInt64(0), row.GetString(1), row.GetFieldValue<byte[]>(2)));
            return entries;
        }, ct);

    public Task MarkDeliveredAsync(long throughOrdinal, CancellationToken ct = default) =>
        InWriteTransactionAsync(w => w.MoveDeliveredCursor(throughOrdinal), ct);

    public Task<int> PruneOutboxAsync(DateTimeOffset olderThan, CancellationToken ct = default) =>
        InWriteTransactionAsync(w => w.Prune(StoreRows.ToUnixMs(olderThan)), ct);

    public Task<string?> GetMetaAsync(string key, CancellationToken ct = default) =>
        _readers.ReadAsync(r =>
        {
            var cmd = r.Command("SELECT value FROM meta WHERE key = $key", "$key");
            cmd.Parameters[0].Value = key;
            return cmd.ExecuteScalar() as string;
        }, ct);

    /// <summary>Durable on return in either <see cref="SqliteSync"/> mode, and with it every write committed before it: the
    /// ingest log stores its checkpoint position here before it deletes the journal up to it.</summary>
    public Task SetMetaAsync(string key, string value, CancellationToken ct = default) =>
        InWriteTransactionAsync(w => w.SetMeta(key, value), ct, durable: true);

    private async Task<T> InWriteTransactionAsync<T>(Func<SqliteWriter, T> work, CancellationToken ct, bool durable = false)
    {
        await _writeGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return durable ? Writer.InDurableTransaction(work) : Writer.InTransaction(work);
        }
        finally { _writeGate.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        // Wait for a write in flight so that its connection is not closed under it.
        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            _writer?.Dispose();
            _writer = null;
            _readers.Dispose();
        }
        finally { _writeGate.Release(); }
    }
}
