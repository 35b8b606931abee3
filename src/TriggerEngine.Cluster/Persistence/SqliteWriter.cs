using Microsoft.Data.Sqlite;

namespace TriggerEngine.Cluster.Persistence;

/// <summary>
/// The one write connection of a <see cref="SqliteStateStore"/> and its statements, prepared once and reused for
/// every row. Not thread-safe: the store lets one caller in at a time.
/// </summary>
internal sealed class SqliteWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _upsert;
    private readonly SqliteCommand _delete;
    private readonly SqliteCommand _read;
    private readonly SqliteCommand _appendOutbox;
    private readonly SqliteCommand _setMeta;
    private readonly SqliteCommand _moveCursor;
    private readonly SqliteCommand _prune;
    private readonly SqliteCommand[] _all;

    public SqliteWriter(string connectionString, SqliteSync sync, string schema)
    {
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        // page_size first: it only takes on a new file, before WAL. 16 KB pages keep a state of up to ~4 KB inside its
        // B-tree cell (a WITHOUT ROWID row spills to an overflow page past ~1 KB with 4 KB pages): with 1 KB states the
        // file was 4x smaller and upserts ~2.5x faster. The larger cache keeps the upper B-tree levels of a big table.
        Execute($"PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous={(sync == SqliteSync.Full ? "FULL" : "NORMAL")}; " +
                "PRAGMA busy_timeout=5000; PRAGMA cache_size=-65536;");
        using (var tx = _connection.BeginTransaction(deferred: false))
        {
            using var create = _connection.CreateCommand();
            create.Transaction = tx;
            create.CommandText = schema;
            create.ExecuteNonQuery();
            tx.Commit();
        }

        _upsert = Prepare("INSERT INTO entity_state (kind, id, state, applied_seq, next_due) VALUES ($k, $i, $s, $q, $d) " +
                          "ON CONFLICT (kind, id) DO UPDATE SET state = excluded.state, applied_seq = excluded.applied_seq, next_due = excluded.next_due",
            "$k", "$i", "$s", "$q", "$d");
        _delete = Prepare("DELETE FROM entity_state WHERE kind = $k AND id = $i", "$k", "$i");
        _read = Prepare("SELECT state FROM entity_state WHERE kind = $k AND id = $i", "$k", "$i");
        // RETURNING gives no row when the decision id was there already: that is how the caller learns what is new.
        _appendOutbox = Prepare("INSERT INTO outbox (decision_id, payload, created_at) VALUES ($d, $p, $t) " +
                                "ON CONFLICT (decision_id) DO NOTHING RETURNING ordinal", "$d", "$p", "$t");
        _setMeta = Prepare("INSERT INTO meta (key, value) VALUES ($key, $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value", "$key", "$v");
        // The WHERE makes the cursor monotonic in the statement itself, whatever order callers' marks arrive in.
        _moveCursor = Prepare($"INSERT INTO meta (key, value) VALUES ('{StoreRows.DeliveredCursorKey}', $v) ON CONFLICT (key) DO UPDATE " +
                              "SET value = excluded.value WHERE CAST(excluded.value AS INTEGER) > CAST(meta.value AS INTEGER)", "$v");
        _prune = Prepare("DELETE FROM outbox WHERE created_at < $t AND ordinal <= " +
                         $"COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{StoreRows.DeliveredCursorKey}'), 0)", "$t");
        _all = [_upsert, _delete, _read, _appendOutbox, _setMeta, _moveCursor, _prune];
    }

    /// <summary>Runs <paramref name="work"/> in one IMMEDIATE transaction (the write lock is taken at BEGIN, so
    /// nothing fails half-way for want of it) and commits.</summary>
    public T InTransaction<T>(Func<SqliteWriter, T> work)
    {
        using var tx = _connection.BeginTransaction(deferred: false);
        foreach (var c in _all) c.Transaction = tx;
        var result = work(this);
        tx.Commit();
        return result;
    }

    public void Upsert(StoredState s)
    {
        var p = _upsert.Parameters;
        p[0].Value = s.Kind;
        p[1].Value = s.Id;
        p[2].Value = s.State;
        p[3].Value = s.AppliedSeq;
        p[4].Value = s.NextDue is { } due ? StoreRows.ToUnixMs(due) : DBNull.Value;
        _upsert.ExecuteNonQuery();
    }

    /// <summary>A row's state as this transaction sees it, or null.</summary>
    public byte[]? ReadState(string kind, string id)
    {
        _read.Parameters[0].Value = kind;
        _read.Parameters[1].Value = id;
        return _read.ExecuteScalar() as byte[];
    }

    public void Delete(string kind, string id)
    {
        _delete.Parameters[0].Value = kind;
        _delete.Parameters[1].Value = id;
        _delete.ExecuteNonQuery();
    }

    /// <summary>The new ordinal, or null when <paramref name="decisionId"/> is already in the outbox.</summary>
    public long? AppendOutbox(string decisionId, byte[] payload, long createdAtMs)
    {
        _appendOutbox.Parameters[0].Value = decisionId;
        _appendOutbox.Parameters[1].Value = payload;
        _appendOutbox.Parameters[2].Value = createdAtMs;
        return _appendOutbox.ExecuteScalar() is long ordinal ? ordinal : null;
    }

    public int SetMeta(string key, string value)
    {
        _setMeta.Parameters[0].Value = key;
        _setMeta.Parameters[1].Value = value;
        return _setMeta.ExecuteNonQuery();
    }

    public int MoveDeliveredCursor(long throughOrdinal)
    {
        _moveCursor.Parameters[0].Value = throughOrdinal.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return _moveCursor.ExecuteNonQuery();
    }

    public int Prune(long olderThanMs)
    {
        _prune.Parameters[0].Value = olderThanMs;
        return _prune.ExecuteNonQuery();
    }

    private SqliteCommand Prepare(string sql, params ReadOnlySpan<string> parameters)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var p in parameters) cmd.Parameters.Add(new SqliteParameter { ParameterName = p });
        cmd.Prepare();
        return cmd;
    }

    private int Execute(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var c in _all) c.Dispose();
        _connection.Dispose();
    }
}
