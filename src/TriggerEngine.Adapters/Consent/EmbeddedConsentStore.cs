using System.Text.Json;
using Microsoft.Data.Sqlite;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Ports;

namespace TriggerEngine.Adapters.Consent;

/// <summary>
/// The embedded consent store: a SQLite table in the data directory (durable before <c>PUT</c> returns)
/// with an in-process cache of the recently used records in front (<see cref="RecentCache{TKey,TValue}"/>:
/// bounded, so memory does not grow with the number of customers). Writes are serialized.
/// </summary>
public sealed class EmbeddedConsentStore : IConsentStore, IDisposable
{
    private readonly SqliteConnection _db;
    private readonly string _readConnection;
    private readonly RecentCache<string, ConsentRecord?> _cache;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public const int DefaultCacheSize = 200_000;

    /// <param name="cacheSize">Records kept in memory at most (about 0.5 KB each).</param>
    public EmbeddedConsentStore(string path, int cacheSize = DefaultCacheSize)
    {
        _cache = new RecentCache<string, ConsentRecord?>(cacheSize);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _db.Open();
        // Reads take pooled read-only connections of their own: in WAL mode they never wait for the writer.
        _readConnection = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, Mode = SqliteOpenMode.ReadOnly }.ToString();
        Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;" +
             "CREATE TABLE IF NOT EXISTS consent (customer_id TEXT PRIMARY KEY, record TEXT NOT NULL, updated_at INTEGER NOT NULL);");
    }

    public async ValueTask<ConsentRecord?> GetAsync(string customerId, CancellationToken cancellationToken = default)
    {
        if (_cache.TryGet(customerId, out var cached)) return cached;
        await using var db = new SqliteConnection(_readConnection);
        await db.OpenAsync(cancellationToken);
        await using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT record FROM consent WHERE customer_id = $id";
        cmd.Parameters.AddWithValue("$id", customerId);
        var json = await cmd.ExecuteScalarAsync(cancellationToken) as string;
        var record = json is null ? null : Deserialize(json);
        // A write that raced this read already set the entry; it is newer, keep it.
        return _cache.Offer(customerId, record, (existing, read) => existing is not null && (read is null || existing.UpdatedAt >= read.UpdatedAt));
    }

    public async ValueTask<ConsentRecord> PutAsync(string customerId, ConsentRecord record, CancellationToken cancellationToken = default)
    {
        var stored = await GetAsync(customerId, cancellationToken);
        if (!ConsentRecord.Supersedes(record, stored)) return stored!;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "INSERT INTO consent (customer_id, record, updated_at) VALUES ($id, $r, $u) " +
                              "ON CONFLICT(customer_id) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at " +
                              "WHERE excluded.updated_at >= consent.updated_at";
            cmd.Parameters.AddWithValue("$id", customerId);
            cmd.Parameters.AddWithValue("$r", JsonSerializer.Serialize(record));
            cmd.Parameters.AddWithValue("$u", record.UpdatedAt.UtcTicks);
            cmd.ExecuteNonQuery();
            _cache.Set(customerId, record);
            return record;
        }
        finally { _gate.Release(); }
    }

    public async ValueTask DeleteAsync(string customerId, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "DELETE FROM consent WHERE customer_id = $id";
            cmd.Parameters.AddWithValue("$id", customerId);
            cmd.ExecuteNonQuery();
            _cache.Remove(customerId);
        }
        finally { _gate.Release(); }
    }

    private static ConsentRecord Deserialize(string json)
    {
        var r = JsonSerializer.Deserialize<StoredConsent>(json)!;
        return new ConsentRecord(Shared(r.Channels), Shared(r.Purposes), r.MaxPerWeek, r.OptOutTopics, r.UnsubscribedAll, r.UpdatedAt);
    }

    // Channel and purpose names are a handful of words repeated in every record: one string each, not one per
    // record (a cached record is mostly these keys). Bounded, since the names come from requests.
    private const int NameLimit = 1_000;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Names = new(StringComparer.Ordinal);
    private static int _namesAdded; // ConcurrentDictionary.Count takes every lock: not on each read

    private static Dictionary<string, bool> Shared(Dictionary<string, bool> flags)
    {
        var shared = new Dictionary<string, bool>(flags.Count, StringComparer.Ordinal);
        foreach (var (name, on) in flags) shared[SharedName(name)] = on;
        return shared;
    }

    private static string SharedName(string name)
    {
        if (Names.TryGetValue(name, out var known)) return known;
        if (Volatile.Read(ref _namesAdded) >= NameLimit) return name;
        if (Names.TryAdd(name, name))
        {
            Interlocked.Increment(ref _namesAdded);
            return name;
        }
        return Names.GetValueOrDefault(name, name);
    }

    private sealed record StoredConsent(Dictionary<string, bool> Channels, Dictionary<string, bool> Purposes, int? MaxPerWeek,
        List<string> OptOutTopics, bool UnsubscribedAll, DateTimeOffset UpdatedAt);

    private void Exec(string sql)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _db.Dispose();
        _gate.Dispose();
    }
}
