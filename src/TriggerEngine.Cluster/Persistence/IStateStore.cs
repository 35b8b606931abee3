namespace TriggerEngine.Cluster.Persistence;

/// <summary>One entity's checkpoint. Kind: "c" customer, "p" product. <see cref="NextDue"/> is kept to the
/// millisecond (stored as unix milliseconds, UTC) so that the timer index sorts the same way on every backend.</summary>
public sealed record StoredState(string Kind, string Id, byte[] State, long AppliedSeq, DateTimeOffset? NextDue);

/// <summary>A decision recorded before delivery; <see cref="Ordinal"/> grows with each commit and is never reused.</summary>
public sealed record OutboxEntry(long Ordinal, string DecisionId, byte[] Payload);

/// <summary>
/// Where entities checkpoint their state, where durable timers are found (an index on the due time) and where
/// decisions wait for delivery. Implementations: <see cref="SqliteStateStore"/> (single node, its own file) and
/// <see cref="PostgresStateStore"/> (cluster). Callers with many concurrent entities go through
/// <see cref="StateBatcher"/>, which turns their point writes and reads into batches.
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>Creates the schema if missing; safe to call again, and from several nodes at once.</summary>
    Task InitializeAsync(CancellationToken ct = default);

    /// <summary>The states of <paramref name="ids"/> that exist; missing ids are simply absent (any order).</summary>
    Task<IReadOnlyList<StoredState>> LoadAsync(string kind, IReadOnlyCollection<string> ids, CancellationToken ct = default);

    /// <summary>Every row of <paramref name="kind"/> whose id starts with <paramref name="idPrefix"/>, in id order (rows an
    /// entity owns, keyed <see cref="OwnedRows.Key"/>: a product's interests).</summary>
    Task<IReadOnlyList<StoredState>> LoadRowsAsync(string kind, string idPrefix, CancellationToken ct = default);

    /// <summary>Upserts all in ONE transaction; when a key appears twice the later one wins.</summary>
    Task SaveAsync(IReadOnlyList<StoredState> states, CancellationToken ct = default);

    /// <summary>Upserts <paramref name="saves"/>, deletes <paramref name="deletes"/>, then applies <paramref name="merges"/>
    /// (each row's deltas onto its stored value, <see cref="OwnedRows.Merge"/>), in ONE transaction, so that a batch of
    /// mixed writes is atomic and costs one commit. (Beyond the minimal contract: <see cref="StateBatcher"/> needs it.)</summary>
    Task WriteAsync(IReadOnlyList<StoredState> saves, IReadOnlyCollection<(string Kind, string Id)> deletes,
        IReadOnlyList<RowMerge>? merges = null, CancellationToken ct = default);

    Task DeleteAsync(string kind, string id, CancellationToken ct = default);

    /// <summary>Timers due by <paramref name="until"/> (inclusive), ordered by (next_due, id) with ids in ordinal
    /// order, strictly after <paramref name="after"/> (keyset paging: pass the last row of the previous page), at most
    /// <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<(string Id, DateTimeOffset Due)>> DueAsync(string kind, DateTimeOffset until, (DateTimeOffset Due, string Id)? after,
        int limit, CancellationToken ct = default);

    Task<long> CountAsync(string kind, CancellationToken ct = default);

    /// <summary>Inserts each decision unless its id is already there (also within the list: the first one wins), in ONE
    /// transaction; returns the entries newly inserted, ordinals ascending. Ordinals are assigned in commit order, so a
    /// reader that saw ordinal n will never later see a new entry below n (the delivered cursor relies on it).
    /// Dedup lasts as long as the row: once pruned, the same decision id is accepted again.</summary>
    Task<IReadOnlyList<OutboxEntry>> AppendOutboxAsync(IReadOnlyList<(string DecisionId, byte[] Payload)> decisions, CancellationToken ct = default);

    /// <summary>Entries after the delivered cursor, ordinals ascending, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<OutboxEntry>> UndeliveredAsync(int limit, CancellationToken ct = default);

    /// <summary>Moves the delivered cursor to <paramref name="throughOrdinal"/>; a lower value than the current one is ignored.</summary>
    Task MarkDeliveredAsync(long throughOrdinal, CancellationToken ct = default);

    /// <summary>Deletes delivered entries created before <paramref name="olderThan"/>; returns how many.</summary>
    Task<int> PruneOutboxAsync(DateTimeOffset olderThan, CancellationToken ct = default);

    Task<string?> GetMetaAsync(string key, CancellationToken ct = default);
    /// <summary>Durable when it completes, and every write completed before it with it (a store may commit its other
    /// writes without waiting for the disk): the ingest log stores its checkpoint position here before it deletes the
    /// journal up to it.</summary>
    Task SetMetaAsync(string key, string value, CancellationToken ct = default);
}
