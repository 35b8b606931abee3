using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Ports;

namespace TriggerEngine.Adapters.Consent;

/// <summary>
/// The embedded consent store: a SQLite table in the data directory (durable before <c>PUT</c> returns)
/// with an in-process cache of the recently used records in front (<see cref="RecentCache{TKey,TValue}"/>:
/// bounded, so memory does not grow with the number of customers).
/// <para>Group commit and batched reads, as for entity state: one loop writes every <c>PUT</c> waiting into one
/// transaction (one fsync for all of them; one transaction per record ran at ~4k/s), another reads the records
/// of every cache miss waiting with one query (a customer activated for the first time misses the cache); a lone
/// miss is read at once on the caller's thread.</para>
/// </summary>
public sealed class EmbeddedConsentStore : IConsentStore, IDisposable
{
    private const int MaxBatch = 500;
    private readonly SqliteConnection _db;
    private readonly SqliteConnection _reader;
    private readonly SqliteConnection _inlineConnection;
    private readonly SqliteCommand _inlineRead;
    private readonly SqliteParameter _inlineId;
    private int _inlineBusy;
    private readonly RecentCache<string, ConsentRecord?> _cache;
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<PendingRead> _reads = Channel.CreateUnbounded<PendingRead>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writeLoop;
    private readonly Task _readLoop;

    public const int DefaultCacheSize = 200_000;

    /// <param name="cacheSize">Records kept in memory at most (about 0.5 KB each).</param>
    public EmbeddedConsentStore(string path, int cacheSize = DefaultCacheSize)
    {
        _cache = new RecentCache<string, ConsentRecord?>(cacheSize);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _db.Open();
        Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;" +
             "CREATE TABLE IF NOT EXISTS consent (customer_id TEXT PRIMARY KEY, record TEXT NOT NULL, updated_at INTEGER NOT NULL);");
        // Reads (the batch loop's, and the inline one's) have read-only connections of their own: in WAL mode they
        // never wait for the writer.
        var readOnly = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString();
        _reader = new SqliteConnection(readOnly);
        _reader.Open();
        _inlineConnection = new SqliteConnection(readOnly);
        _inlineConnection.Open();
        _inlineRead = _inlineConnection.CreateCommand();
        _inlineRead.CommandText = "SELECT record FROM consent WHERE customer_id = $id";
        _inlineId = _inlineRead.Parameters.Add("$id", SqliteType.Text);
        _inlineRead.Prepare();
        _writeLoop = Task.Run(WriteLoop);
        _readLoop = Task.Run(ReadLoop);
    }

    public ValueTask<ConsentRecord?> GetAsync(string customerId, CancellationToken cancellationToken = default)
    {
        if (_cache.TryGet(customerId, out var cached)) return ValueTask.FromResult(cached);
        // One miss at a time is read at once on the caller's thread (a point read is ~20 µs): a lone miss then
        // costs no hand-off, which a replay after a restart, one cold customer after another, waits on. Misses
        // that come meanwhile go to the batch.
        if (Interlocked.CompareExchange(ref _inlineBusy, 1, 0) == 0)
        {
            try
            {
                _inlineId.Value = customerId;
                var json = _inlineRead.ExecuteScalar() as string;
                return ValueTask.FromResult(Offer(customerId, json is null ? null : Deserialize(json)));
            }
            catch (Exception ex)
            {
                return ValueTask.FromException<ConsentRecord?>(ex);
            }
            finally { Volatile.Write(ref _inlineBusy, 0); }
        }
        var read = new PendingRead(customerId);
        return _reads.Writer.TryWrite(read)
            ? new ValueTask<ConsentRecord?>(read.Done.Task.WaitAsync(cancellationToken))
            : ValueTask.FromException<ConsentRecord?>(new ObjectDisposedException(nameof(EmbeddedConsentStore)));
    }

    public async ValueTask<ConsentRecord> PutAsync(string customerId, ConsentRecord record, CancellationToken cancellationToken = default)
    {
        var stored = await GetAsync(customerId, cancellationToken);
        if (!ConsentRecord.Supersedes(record, stored)) return stored!;
        var write = new PendingWrite(customerId, Compact(record));
        if (!_writes.Writer.TryWrite(write)) throw new ObjectDisposedException(nameof(EmbeddedConsentStore));
        await write.Done.Task.WaitAsync(cancellationToken);
        return record;
    }

    public async ValueTask DeleteAsync(string customerId, CancellationToken cancellationToken = default)
    {
        var delete = new PendingWrite(customerId, null);
        if (!_writes.Writer.TryWrite(delete)) throw new ObjectDisposedException(nameof(EmbeddedConsentStore));
        await delete.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Writes in the order they were handed in, so of two writes of a customer the later one wins
    /// (upserts also keep the newer <c>updatedAt</c>).</summary>
    private async Task WriteLoop()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        while (await _writes.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _writes.Reader.TryRead(out var w)) batch.Add(w);
            try
            {
                using (var tx = _db.BeginTransaction())
                {
                    using var upsert = _db.CreateCommand();
                    upsert.CommandText = "INSERT INTO consent (customer_id, record, updated_at) VALUES ($id, $r, $u) " +
                                         "ON CONFLICT(customer_id) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at " +
                                         "WHERE excluded.updated_at >= consent.updated_at";
                    var (uid, ur, uu) = (upsert.Parameters.Add("$id", SqliteType.Text), upsert.Parameters.Add("$r", SqliteType.Text),
                        upsert.Parameters.Add("$u", SqliteType.Integer));
                    using var delete = _db.CreateCommand();
                    delete.CommandText = "DELETE FROM consent WHERE customer_id = $id";
                    var did = delete.Parameters.Add("$id", SqliteType.Text);
                    foreach (var w in batch)
                    {
                        if (w.Record is { } record)
                        {
                            (uid.Value, ur.Value, uu.Value) = (w.CustomerId, JsonSerializer.Serialize(record), record.UpdatedAt.UtcTicks);
                            upsert.ExecuteNonQuery();
                        }
                        else
                        {
                            did.Value = w.CustomerId;
                            delete.ExecuteNonQuery();
                        }
                    }
                    tx.Commit();
                }
                foreach (var w in batch)
                {
                    if (w.Record is { } record)
                        _cache.Offer(w.CustomerId, record, (existing, incoming) => existing is not null && existing.UpdatedAt > incoming!.UpdatedAt);
                    else _cache.Remove(w.CustomerId);
                    w.Done.TrySetResult();
                }
            }
            catch (Exception ex)
            {
                foreach (var w in batch) w.Done.TrySetException(ex);
            }
            batch.Clear();
        }
    }

    private async Task ReadLoop()
    {
        var batch = new List<PendingRead>(MaxBatch);
        while (await _reads.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _reads.Reader.TryRead(out var r)) batch.Add(r);
            try
            {
                var found = new Dictionary<string, ConsentRecord>(StringComparer.Ordinal);
                var ids = batch.Select(r => r.CustomerId).Distinct(StringComparer.Ordinal).ToList();
                using (var cmd = _reader.CreateCommand())
                {
                    var names = new string[ids.Count];
                    for (var i = 0; i < ids.Count; i++)
                    {
                        names[i] = "$p" + i;
                        cmd.Parameters.AddWithValue(names[i], ids[i]);
                    }
                    cmd.CommandText = $"SELECT customer_id, record FROM consent WHERE customer_id IN ({string.Join(',', names)})";
                    using var reader = cmd.ExecuteReader();
                    while (reader.Read()) found[reader.GetString(0)] = Deserialize(reader.GetString(1));
                }
                foreach (var r in batch) r.Done.TrySetResult(Offer(r.CustomerId, found.GetValueOrDefault(r.CustomerId)));
            }
            catch (Exception ex)
            {
                foreach (var r in batch) r.Done.TrySetException(ex);
            }
            batch.Clear();
        }
    }

    /// <summary>Caches what was read, unless a write that raced the read already set a newer record.</summary>
    private ConsentRecord? Offer(string customerId, ConsentRecord? read) =>
        _cache.Offer(customerId, read, (existing, r) => existing is not null && (r is null || existing.UpdatedAt >= r.UpdatedAt));

    private sealed class PendingWrite(string customerId, ConsentRecord? record)
    {
        public string CustomerId { get; } = customerId;
        public ConsentRecord? Record { get; } = record;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class PendingRead(string customerId)
    {
        public string CustomerId { get; } = customerId;
        public TaskCompletionSource<ConsentRecord?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static ConsentRecord Deserialize(string json)
    {
        var r = JsonSerializer.Deserialize<StoredConsent>(json)!;
        return Compact(new ConsentRecord(r.Channels, r.Purposes, r.MaxPerWeek, r.OptOutTopics, r.UnsubscribedAll, r.UpdatedAt));
    }

    /// <summary>The record as the cache keeps it: shared flag maps, no list of its own when there are no topics.</summary>
    private static ConsentRecord Compact(ConsentRecord r) => r with
    {
        Channels = Shared(r.Channels), Purposes = Shared(r.Purposes), OptOutTopics = r.OptOutTopics.Count == 0 ? [] : r.OptOutTopics,
    };

    // Channel and purpose flags are a handful of patterns repeated in every record ({email: true}, {email: true,
    // sms: false}, ...): one read-only map per pattern, not two maps per cached record. Bounded, since the names come
    // from requests.
    private const int PatternLimit = 1_000;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Dictionary<string, bool>> Patterns =
        new(StringComparer.Ordinal);
    private static int _patternsAdded; // ConcurrentDictionary.Count takes every lock: not on each read

    private static IReadOnlyDictionary<string, bool> Shared(IReadOnlyDictionary<string, bool> flags)
    {
        var pattern = string.Join('\n', flags.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={(f.Value ? 1 : 0)}"));
        if (Patterns.TryGetValue(pattern, out var known)) return known;
        var own = new Dictionary<string, bool>(flags, StringComparer.Ordinal);
        // Copied: the caller's map may change; the shared one never does.
        if (Volatile.Read(ref _patternsAdded) >= PatternLimit) return own;
        if (Patterns.TryAdd(pattern, own))
        {
            Interlocked.Increment(ref _patternsAdded);
            return own;
        }
        return Patterns.GetValueOrDefault(pattern, own);
    }

    private sealed record StoredConsent(Dictionary<string, bool> Channels, Dictionary<string, bool> Purposes, int? MaxPerWeek,
        List<string> OptOutTopics, bool UnsubscribedAll, DateTimeOffset UpdatedAt);

    private void Exec(string sql)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Finishes the writes handed in, then closes.</summary>
    public void Dispose()
    {
        _writes.Writer.TryComplete();
        _reads.Writer.TryComplete();
        Task.WhenAll(_writeLoop, _readLoop).GetAwaiter().GetResult();
        _reader.Dispose();
        _inlineRead.Dispose();
        _inlineConnection.Dispose();
        _db.Dispose();
    }
}
