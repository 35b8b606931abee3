using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace TriggerEngine.Cluster.Persistence;

/// <summary>
/// A few read-only connections, each keeping its prepared statements: in WAL mode readers never wait for the writer,
/// and a reused statement skips the SQL parse (a 500-id IN list is most of the cost of a short query).
/// </summary>
internal sealed class SqliteReaderPool : IDisposable
{
    private readonly string _connectionString;
    private readonly ConcurrentBag<SqliteReader> _idle = new();
    private readonly SemaphoreSlim _slots;
    private volatile bool _disposed;

    public SqliteReaderPool(string connectionString, int size)
    {
        _connectionString = connectionString;
        _slots = new SemaphoreSlim(size, size);
    }

    /// <summary>Runs <paramref name="read"/> on an idle reader (opening one if none is idle). A reader whose read threw
    /// is closed rather than reused: its state is unknown.</summary>
    public async Task<T> ReadAsync<T>(Func<SqliteReader, T> read, CancellationToken ct)
    {
        await _slots.WaitAsync(ct).ConfigureAwait(false);
        SqliteReader? reader = null;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_idle.TryTake(out reader)) reader = new SqliteReader(_connectionString);
            var result = read(reader);
            if (!_disposed)
            {
                _idle.Add(reader);
                reader = null; // kept; a reader that threw, or outlived the pool, is closed below
            }
            return result;
        }
        finally
        {
            reader?.Dispose();
            _slots.Release();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var r)) r.Dispose();
    }
}

/// <summary>One read connection with its statements, prepared once per SQL text.</summary>
internal sealed class SqliteReader : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteReader(string connectionString)
    {
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        using var cmd = _connection.CreateCommand();
        // query_only: a reader that is handed a write by mistake fails instead of competing with the writer.
        cmd.CommandText = "PRAGMA query_only=ON; PRAGMA busy_timeout=5000; PRAGMA cache_size=-16384;";
        cmd.ExecuteNonQuery();
    }

    /// <summary>The statement for <paramref name="sql"/>, its parameters named by <paramref name="parameters"/> on first use.</summary>
    public SqliteCommand Command(string sql, params ReadOnlySpan<string> parameters)
    {
        if (_commands.TryGetValue(sql, out var cmd)) return cmd;
        cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var p in parameters) cmd.Parameters.Add(new SqliteParameter { ParameterName = p });
        cmd.Prepare();
        _commands[sql] = cmd;
        return cmd;
    }

    public void Dispose()
    {
        foreach (var c in _commands.Values) c.Dispose();
        _connection.Dispose();
    }
}
