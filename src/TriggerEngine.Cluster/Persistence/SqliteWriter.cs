using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace TriggerEngine.Cluster.Persistence;

/// <summary>
/// The one write connection of a <see cref="SqliteStateStore"/> and its statements, prepared once and reused for
/// every row. Not thread-safe: the store lets one caller in at a time.
/// </summary>
internal sealed class SqliteWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly RawStatement _upsert;
    private readonly SqliteCommand _delete;
    private readonly SqliteCommand _read;
    private readonly RawStatement _appendOutbox;
    private readonly SqliteCommand _setMeta;
    private readonly SqliteCommand _moveCursor;
    private readonly SqliteCommand _prune;
    private readonly SqliteCommand[] _all;
    private readonly SqliteSync _sync;

    public SqliteWriter(string connectionString, SqliteSync sync, string schema)
    {
        _sync = sync;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        // page_size first: it only takes on a new file, before WAL. Every state saved dirties the page it sits on, and a
        // checkpoint round saves tens of thousands of states scattered over the whole table: each costs a page in the WAL
        // and again in the file. With 16 KB pages the engine wrote ~470 MB/s at 1M customers; 4 KB pages (with the state
        // table a rowid table, so that a state stays inside its page) write ~2.5x less per save. The larger cache keeps
        // the upper B-tree levels of a big table. A WAL of 16,000 pages (64 MB) before a checkpoint copies it into the
        // file, against SQLite's 1,000: a page saved again meanwhile is copied once, and the writer (which runs the
        // checkpoint inside the commit that crosses the mark) stops for it less often (~35 % more upserts/s measured).
        Execute($"PRAGMA page_size=4096; PRAGMA journal_mode=WAL; PRAGMA synchronous={(sync == SqliteSync.Full ? "FULL" : "NORMAL")}; " +
                "PRAGMA busy_timeout=5000; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=16000;");
        using (var tx = _connection.BeginTransaction(deferred: false))
        {
            using var create = _connection.CreateCommand();
            create.Transaction = tx;
            create.CommandText = schema;
            create.ExecuteNonQuery();
            tx.Commit();
        }

        _upsert = new RawStatement(_connection, "INSERT INTO entity_state (kind, id, state, applied_seq, next_due) VALUES ($k, $i, $s, $q, $d) " +
                          "ON CONFLICT (kind, id) DO UPDATE SET state = excluded.state, applied_seq = excluded.applied_seq, next_due = excluded.next_due");
        _delete = Prepare("DELETE FROM entity_state WHERE kind = $k AND id = $i", "$k", "$i");
        _read = Prepare("SELECT state FROM entity_state WHERE kind = $k AND id = $i", "$k", "$i");
        // RETURNING gives no row when the decision id was there already: that is how the caller learns what is new.
        _appendOutbox = new RawStatement(_connection, "INSERT INTO outbox (decision_id, payload, created_at) VALUES ($d, $p, $t) " +
                                                      "ON CONFLICT (decision_id) DO NOTHING RETURNING ordinal");
        _setMeta = Prepare("INSERT INTO meta (key, value) VALUES ($key, $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value", "$key", "$v");
        // The WHERE makes the cursor monotonic in the statement itself, whatever order callers' marks arrive in.
        _moveCursor = Prepare($"INSERT INTO meta (key, value) VALUES ('{StoreRows.DeliveredCursorKey}', $v) ON CONFLICT (key) DO UPDATE " +
                              "SET value = excluded.value WHERE CAST(excluded.value AS INTEGER) > CAST(meta.value AS INTEGER)", "$v");
        _prune = Prepare("DELETE FROM outbox WHERE created_at < $t AND ordinal <= " +
                         $"COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{StoreRows.DeliveredCursorKey}'), 0)", "$t");
        _all = [_delete, _read, _setMeta, _moveCursor, _prune];
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

    /// <summary><see cref="InTransaction{T}"/>, fsynced whatever the connection's mode: in WAL mode the fsync of this
    /// commit also makes every earlier commit durable (they are all in the WAL before it, or already checkpointed).</summary>
    public T InDurableTransaction<T>(Func<SqliteWriter, T> work)
    {
        if (_sync == SqliteSync.Full) return InTransaction(work);
        Execute("PRAGMA synchronous=FULL");
        try
        {
            return InTransaction(work);
        }
        finally { Execute("PRAGMA synchronous=NORMAL"); }
    }

    public void Upsert(StoredState s)
    {
        _upsert.Text(1, s.Kind);
        _upsert.Text(2, s.Id);
        _upsert.Blob(3, s.State);
        _upsert.Int64(4, s.AppliedSeq);
        if (s.NextDue is { } due) _upsert.Int64(5, StoreRows.ToUnixMs(due));
        else _upsert.Null(5);
        _upsert.Run();
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
        _appendOutbox.Text(1, decisionId);
        _appendOutbox.Blob(2, payload);
        _appendOutbox.Int64(3, createdAtMs);
        return _appendOutbox.Run();
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
        _upsert.Dispose();
        _appendOutbox.Dispose();
        _connection.Dispose();
    }

    /// <summary>
    /// A statement of the hot path (a state upsert per saved entity, an outbox row per decision) prepared once and run
    /// through SQLitePCL directly, inside the connection's current transaction: Microsoft.Data.Sqlite allocates a data
    /// reader, a statement enumerator and a binder per parameter on every execution (~12 % of the engine's allocations
    /// at full load, perf/README sixth pass). Parameters are numbered from 1 in the order they appear in the SQL.
    /// </summary>
    private sealed class RawStatement : IDisposable
    {
        private readonly sqlite3 _db;
        private readonly sqlite3_stmt _statement;

        public RawStatement(SqliteConnection connection, string sql)
        {
            _db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
            Check(raw.sqlite3_prepare_v2(_db, sql, out _statement));
        }

        public void Text(int index, string value) => Check(raw.sqlite3_bind_text16(_statement, index, value.AsSpan()));
        public void Blob(int index, byte[] value) => Check(raw.sqlite3_bind_blob(_statement, index, value));
        public void Int64(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));
        public void Null(int index) => Check(raw.sqlite3_bind_null(_statement, index));

        /// <summary>Runs the statement to its first row or its end: the row's first column as a number, or null.</summary>
        public long? Run()
        {
            try
            {
                var rc = raw.sqlite3_step(_statement);
                if (rc == raw.SQLITE_ROW) return raw.sqlite3_column_int64(_statement, 0);
                Check(rc == raw.SQLITE_DONE ? raw.SQLITE_OK : rc);
                return null;
            }
            finally
            {
                raw.sqlite3_reset(_statement);
            }
        }

        private void Check(int rc)
        {
            if (rc != raw.SQLITE_OK) throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc, raw.sqlite3_extended_errcode(_db));
        }

        public void Dispose() => _statement.Dispose();
    }
}
