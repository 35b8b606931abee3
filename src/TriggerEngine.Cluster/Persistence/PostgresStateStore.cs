using Npgsql;
using NpgsqlTypes;

namespace TriggerEngine.Cluster.Persistence;

/// <summary>
/// The state store on PostgreSQL, for a cluster. Same schema as <see cref="SqliteStateStore"/>, tables prefixed
/// <c>te_</c> so that they sit beside the Akka journal's tables in one database without a clash. Times are bigint
/// unix milliseconds as in SQLite, so both backends sort and page timers identically; ids are <c>COLLATE "C"</c>
/// (byte order, like SQLite's BINARY) for the same reason, and because the planner can then use the index for the
/// keyset comparison whatever the database's default collation.
/// Batches go as arrays (<c>unnest</c>, <c>= ANY</c>): one statement and one round trip for thousands of rows,
/// and a constant SQL text that Npgsql prepares once per connection.
/// </summary>
public sealed class PostgresStateStore : IStateStore
{
    /// <summary>Rows per array statement: bounds the size of one message (a few MB at ~1 KB a state).</summary>
    private const int StatementRows = 5000;

    /// <summary>Advisory lock keys (per database): one serializes schema creation across nodes, one serializes outbox
    /// appends so that ordinals are handed out in commit order (a bigserial alone is not: a transaction that took
    /// ordinal 10 may commit after one that took 11, and a reader would move the delivered cursor past 10 unseen).</summary>
    private const long SchemaLock = 0x7465_5F73_6368_656D; // "te_schem"
    private const long OutboxLock = 0x7465_5F6F_7574_6278; // "te_outbx"

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS te_entity_state (
            kind text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, state bytea NOT NULL, applied_seq bigint NOT NULL,
            next_due bigint NULL, -- unix ms, UTC
            PRIMARY KEY (kind, id));
        -- The durable timer index: only entities with a timer are in it.
        CREATE INDEX IF NOT EXISTS te_entity_state_due ON te_entity_state (kind, next_due, id) WHERE next_due IS NOT NULL;
        CREATE TABLE IF NOT EXISTS te_outbox (
            ordinal bigserial PRIMARY KEY, decision_id text NOT NULL UNIQUE, payload bytea NOT NULL,
            created_at bigint NOT NULL); -- unix ms, UTC
        CREATE TABLE IF NOT EXISTS te_meta (key text PRIMARY KEY, value text NOT NULL);
        """;

    private const string Columns = "kind, id, state, applied_seq, next_due";
    private const string Cursor = $"COALESCE((SELECT value::bigint FROM te_meta WHERE key = '{StoreRows.DeliveredCursorKey}'), 0)";

    private readonly NpgsqlDataSource _db;
    private readonly TimeProvider _clock;

    /// <param name="clock">Stamps outbox rows (their age decides pruning).</param>
    public PostgresStateStore(string connectionString, TimeProvider? clock = null)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // Every statement here has a constant text: let Npgsql prepare them on each pooled connection.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0) builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        _db = builder.Build();
        _clock = clock ?? TimeProvider.System;
    }

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        // Two nodes running CREATE ... IF NOT EXISTS at once can still collide on the catalog: take turns.
        await Execute(conn, tx, $"SELECT pg_advisory_xact_lock({SchemaLock})", ct).ConfigureAwait(false);
        await Execute(conn, tx, Schema, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<StoredState>> LoadAsync(string kind, IReadOnlyCollection<string> ids, CancellationToken ct = default)
    {
        if (ids.Count == 0) return [];
        var found = new List<StoredState>(ids.Count);
        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        foreach (var chunk in ids.Chunk(StatementRows))
        {
            await using var cmd = new NpgsqlCommand($"SELECT {Columns} FROM te_entity_state WHERE kind = $1 AND id = ANY($2)", conn);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = chunk, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await using var row = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await row.ReadAsync(ct).ConfigureAwait(false)) found.Add(ReadState(row));
        }
        return found;
    }

    public async Task<IReadOnlyList<StoredState>> LoadRowsAsync(string kind, string idPrefix, CancellationToken ct = default)
    {
        // ids are COLLATE "C": the range compares bytes, and the primary key serves it.
        await using var cmd = _db.CreateCommand($"SELECT {Columns} FROM te_entity_state WHERE kind = $1 AND id >= $2 AND id < $3 ORDER BY id");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = idPrefix });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StoreRows.PrefixEnd(idPrefix) });
        var found = new List<StoredState>();
        await using var row = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await row.ReadAsync(ct).ConfigureAwait(false)) found.Add(ReadState(row));
        return found;
    }

    private static StoredState ReadState(NpgsqlDataReader row) => new(row.GetString(0), row.GetString(1), row.GetFieldValue<byte[]>(2),
        row.GetInt64(3), row.IsDBNull(4) ? null : StoreRows.FromUnixMs(row.GetInt64(4)));

    public Task SaveAsync(IReadOnlyList<StoredState> states, CancellationToken ct = default) => WriteAsync(states, [], null, ct);

    public async Task WriteAsync(IReadOnlyList<StoredState> saves, IReadOnlyCollection<(string Kind, string Id)> deletes,
        IReadOnlyList<RowMerge>? merges = null, CancellationToken ct = default)
    {
        if (saves.Count == 0 && deletes.Count == 0 && (merges is null || merges.Count == 0)) return;
        // One upsert may not touch a row twice, hence one state per key; sorted so that two transactions over the
        // same keys lock them in the same order and cannot deadlock.
        var rows = StoreRows.LastPerKey(saves)
            .OrderBy(s => s.Kind, StringComparer.Ordinal).ThenBy(s => s.Id, StringComparer.Ordinal).ToArray();
        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        await Execute(conn, tx, NoFlushWait, ct).ConfigureAwait(false);
        await UpsertAsync(conn, tx, rows, ct).ConfigureAwait(false);
        foreach (var chunk in deletes.Chunk(StatementRows))
        {
            await using var cmd = new NpgsqlCommand(
                "DELETE FROM te_entity_state t USING unnest($1, $2) AS d(kind, id) WHERE t.kind = d.kind AND t.id = d.id", conn, tx);
            cmd.Parameters.Add(TextArray(chunk.Select(d => d.Kind)));
            cmd.Parameters.Add(TextArray(chunk.Select(d => d.Id)));
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        if (merges is { Count: > 0 }) await MergeAsync(conn, tx, merges, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Reads the merged rows under lock (this transaction sees its own writes), folds the deltas in, upserts.</summary>
    private static async Task MergeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<RowMerge> merges, CancellationToken ct)
    {
        var stored = new Dictionary<(string Kind, string Id), byte[]?>();
        foreach (var kind in merges.GroupBy(m => m.Kind, StringComparer.Ordinal))
            foreach (var chunk in kind.Select(m => m.Id).Order(StringComparer.Ordinal).Chunk(StatementRows))
            {
                await using var read = new NpgsqlCommand("SELECT id, state FROM te_entity_state WHERE kind = $1 AND id = ANY($2) ORDER BY id FOR UPDATE", conn, tx);
                read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind.Key });
                read.Parameters.Add(TextArray(chunk));
                await using var row = await read.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await row.ReadAsync(ct).ConfigureAwait(false)) stored[(kind.Key, row.GetString(0))] = row.GetFieldValue<byte[]>(1);
            }
        // In order, so that two merges of one row both count.
        foreach (var m in merges) stored[(m.Kind, m.Id)] = OwnedRows.Merge(m.Kind, stored.GetValueOrDefault((m.Kind, m.Id)), m.Deltas);
        await UpsertAsync(conn, tx, stored.Select(kv => new StoredState(kv.Key.Kind, kv.Key.Id, kv.Value!, 0, null))
            .OrderBy(s => s.Kind, StringComparer.Ordinal).ThenBy(s => s.Id, StringComparer.Ordinal).ToArray(), ct).ConfigureAwait(false);
    }

    private static async Task UpsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, StoredState[] rows, CancellationToken ct)
    {
        foreach (var chunk in rows.Chunk(StatementRows))
        {
            await using var cmd = new NpgsqlCommand(
                "INSERT INTO te_entity_state (kind, id, state, applied_seq, next_due) SELECT * FROM unnest($1, $2, $3, $4, $5) " +
                "ON CONFLICT (kind, id) DO UPDATE SET state = excluded.state, applied_seq = excluded.applied_seq, next_due = excluded.next_due",
                conn, tx);
            cmd.Parameters.Add(TextArray(chunk.Select(s => s.Kind)));
            cmd.Parameters.Add(TextArray(chunk.Select(s => s.Id)));
            cmd.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = chunk.Select(s => s.State).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = chunk.Select(s => s.AppliedSeq).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            cmd.Parameters.Add(new NpgsqlParameter<long?[]>
            {
                TypedValue = chunk.Select(s => s.NextDue is { } d ? StoreRows.ToUnixMs(d) : (long?)null).ToArray(),
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint,
            });
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
    }

    public Task DeleteAsync(string kind, string id, CancellationToken ct = default) => WriteAsync([], [(kind, id)], null, ct);

    public async Task<IReadOnlyList<(string Id, DateTimeOffset Due)>> DueAsync(string kind, DateTimeOffset until, (DateTimeOffset Due, string Id)? after,
        int limit, CancellationToken ct = default)
    {
        // The row comparison walks the (kind, next_due, id) partial index from the page boundary on.
        var sql = "SELECT id, next_due FROM te_entity_state WHERE kind = $1 AND next_due IS NOT NULL AND next_due <= $2 " +
                  (after is null ? "" : "AND (next_due, id) > ($4, $5) ") + "ORDER BY next_due, id LIMIT $3";
        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = StoreRows.ToUnixMs(until) });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = limit });
        if (after is { } a)
        {
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = StoreRows.ToUnixMs(a.Due) });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = a.Id });
        }
        var due = new List<(string, DateTimeOffset)>(Math.Min(limit, 1024));
        await using var row = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await row.ReadAsync(ct).ConfigureAwait(false)) due.Add((row.GetString(0), StoreRows.FromUnixMs(row.GetInt64(1))));
        return due;
    }

    public async Task<long> CountAsync(string kind, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("SELECT COUNT(*) FROM te_entity_state WHERE kind = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        return (long)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    public async Task<IReadOnlyList<OutboxEntry>> AppendOutboxAsync(IReadOnlyList<(string DecisionId, byte[] Payload)> decisions, CancellationToken ct = default)
    {
        if (decisions.Count == 0) return [];
        var unique = StoreRows.FirstPerDecision(decisions);
        var payloads = unique.ToDictionary(d => d.DecisionId, d => d.Payload, StringComparer.Ordinal);
        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        await Execute(conn, tx, NoFlushWait + $"; SELECT pg_advisory_xact_lock({OutboxLock})", ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(
            "INSERT INTO te_outbox (decision_id, payload, created_at) " +
            "SELECT d, p, $3 FROM unnest($1, $2) WITH ORDINALITY AS u(d, p, n) ORDER BY n " +
            "ON CONFLICT (decision_id) DO NOTHING RETURNING ordinal, decision_id", conn, tx);
        cmd.Parameters.Add(TextArray(unique.Select(d => d.DecisionId)));
        cmd.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = unique.Select(d => d.Payload).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = StoreRows.ToUnixMs(_clock.GetUtcNow()) });
        var inserted = new List<OutboxEntry>();
        await using (var row = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            while (await row.ReadAsync(ct).ConfigureAwait(false))
            {
                var id = row.GetString(1);
                inserted.Add(new OutboxEntry(row.GetInt64(0), id, payloads[id]));
            }
        await tx.CommitAsync(ct).ConfigureAwait(false);
        // RETURNING promises no order.
        inserted.Sort((a, b) => a.Ordinal.CompareTo(b.Ordinal));
        return inserted;
    }

    public async Task<IReadOnlyList<OutboxEntry>> UndeliveredAsync(int limit, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand($"SELECT ordinal, decision_id, payload FROM te_outbox WHERE ordinal > {Cursor} ORDER BY ordinal LIMIT $1");
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = limit });
        var entries = new List<OutboxEntry>();
        await using var row = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await row.ReadAsync(ct).ConfigureAwait(false))
            entries.Add(new OutboxEntry(row.GetInt64(0), row.GetString(1), row.GetFieldValue<byte[]>(2)));
        return entries;
    }

    public async Task MarkDeliveredAsync(long throughOrdinal, CancellationToken ct = default)
    {
        // The WHERE makes the cursor monotonic in the statement itself, whatever order callers' marks arrive in.
        await using var cmd = _db.CreateCommand(
            $"INSERT INTO te_meta (key, value) VALUES ('{StoreRows.DeliveredCursorKey}', $1) ON CONFLICT (key) DO UPDATE " +
            "SET value = excluded.value WHERE te_meta.value::bigint < excluded.value::bigint");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = throughOrdinal.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<int> PruneOutboxAsync(DateTimeOffset olderThan, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand($"DELETE FROM te_outbox WHERE created_at < $1 AND ordinal <= {Cursor}");
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = StoreRows.ToUnixMs(olderThan) });
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<string?> GetMetaAsync(string key, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("SELECT value FROM te_meta WHERE key = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
    }

    /// <summary>
    /// State and outbox writes commit without waiting for the WAL flush: they survive a crash of the engine (the server
    /// has them) and, on a crash of the server, at worst the commits since the last meta write are lost. A meta write
    /// (<see cref="SetMetaAsync"/>: the ingest log's checkpoint position, stored before it deletes the journal up to it)
    /// commits synchronously, and PostgreSQL flushes its WAL in order, so every write before it is durable with it.
    /// </summary>
    private const string NoFlushWait = "SET LOCAL synchronous_commit = off";

    public async Task SetMetaAsync(string key, string value, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("INSERT INTO te_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = value });
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static NpgsqlParameter<string[]> TextArray(IEnumerable<string> values) =>
        new() { TypedValue = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    private static async Task Execute(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();
}
