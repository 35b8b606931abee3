using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace TriggerEngine.Cluster.Persistence;

/// <summary>
/// Group commit and batched point loads over an <see cref="IStateStore"/>, for thousands of entities saving and
/// loading one state each. One loop drains every pending write (up to <c>maxBatch</c>) into one transaction while
/// the next writes queue behind it, so the batch grows with the load and a commit's fsync is shared by all of them;
/// another loop does the same for loads, one query per kind. No timer and no waiting for a batch to fill: an idle
/// batcher commits a lone write at once.
/// Reads see the writes handed in before them: a key with a write not yet committed loads as that write.
/// Disposing drains what was handed in; it does not dispose the store.
/// </summary>
public sealed class StateBatcher : IAsyncDisposable
{
    private readonly IStateStore _store;
    private readonly int _maxBatch;
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<PendingLoad> _loads = Channel.CreateUnbounded<PendingLoad>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The latest write handed in for each key and not yet committed (or failed): what a load returns.</summary>
    private readonly ConcurrentDictionary<(string Kind, string Id), PendingWrite> _pending = new();

    /// <summary>Makes "newest pending write of a key" and "queue order" the same order for concurrent writers.</summary>
    private readonly Lock _enqueue = new();

    /// <summary>Keys with a write held back (<see cref="SaveAfterAsync"/>): the task that queues the last of them, which a
    /// later write of the key waits for in turn. Under <see cref="_enqueue"/>; empty but for an entity restarted with
    /// output unrecorded.</summary>
    private readonly Dictionary<(string Kind, string Id), Task> _held = new();

    private readonly SemaphoreSlim _ownedRowReads = new(4, 4);
    private readonly Task _writeLoop;
    private readonly Task _loadLoop;
    private long _commits;
    private long _largestBatch;
    private long _loadQueries;

    public StateBatcher(IStateStore store, int maxBatch = 2000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _store = store;
        _maxBatch = maxBatch;
        _writeLoop = Task.Run(WriteLoop);
        _loadLoop = Task.Run(LoadLoop);
    }

    /// <summary>Transactions committed so far (one per batch of writes).</summary>
    public long TransactionsCommitted => Interlocked.Read(ref _commits);

    /// <summary>Most writes (saves and deletes, before folding repeats of a key) committed in one transaction.</summary>
    public long LargestBatch => Interlocked.Read(ref _largestBatch);

    /// <summary>Store loads issued so far (one per kind per batch of loads).</summary>
    public long LoadQueries => Interlocked.Read(ref _loadQueries);

    /// <summary>Completes when the transaction holding <paramref name="s"/> (or a later write of the same key) committed.
    /// <paramref name="rows"/>, rows the entity owns (<see cref="OwnedRows"/>), are written in the same transaction.</summary>
    public Task SaveAsync(StoredState s, RowChanges? rows = null) => Enqueue(new PendingWrite((s.Kind, s.Id), s, rows));

    /// <summary>As <see cref="SaveAsync"/>, but the write joins a transaction only once <paramref name="after"/> has completed
    /// (however it ends). Loads see it meanwhile, and later writes of the key queue behind it.</summary>
    public Task SaveAfterAsync(Task after, StoredState s, RowChanges? rows = null) => Enqueue(new PendingWrite((s.Kind, s.Id), s, rows), after);

    /// <summary>Ordered with the saves of the same key: the later of the two wins. <paramref name="rows"/>: owned rows
    /// to delete with it, in the same transaction.</summary>
    public Task DeleteAsync(string kind, string id, RowChanges? rows = null) => Enqueue(new PendingWrite((kind, id), null, rows));

    /// <summary>The state of (kind, id), or null if there is none; a write not yet committed counts.</summary>
    public Task<StoredState?> LoadAsync(string kind, string id)
    {
        if (_pending.TryGetValue((kind, id), out var pending)) return Task.FromResult(pending.State);
        var load = new PendingLoad(kind, id);
        return _loads.Writer.TryWrite(load) ? load.Done.Task : Task.FromException<StoredState?>(new ObjectDisposedException(nameof(StateBatcher)));
    }

    /// <summary>The rows (kind, id) owns of <paramref name="rowKind"/>, in id order; with <paramref name="rowId"/>, that one
    /// row only. A write of the owner still pending is waited for first: owned rows travel only in their owner's writes.
    /// No other write of the owner can come meanwhile: only the entity writes it, and it is the one reading.</summary>
    public async Task<IReadOnlyList<StoredState>> LoadOwnedRowsAsync(string kind, string id, string rowKind, string? rowId = null)
    {
        if (_pending.TryGetValue((kind, id), out var pending))
            await pending.Done.Task.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        // A catalog line updates thousands of products at once: a few reads at a time, not a connection each.
        await _ownedRowReads.WaitAsync().ConfigureAwait(false);
        try
        {
            return rowId is null
                ? await _store.LoadRowsAsync(rowKind, OwnedRows.Prefix(id)).ConfigureAwait(false)
                : await _store.LoadAsync(rowKind, [OwnedRows.Key(id, rowId)]).ConfigureAwait(false);
        }
        finally { _ownedRowReads.Release(); }
    }

    private Task Enqueue(PendingWrite write, Task? after = null)
    {
        lock (_enqueue)
        {
            if (_held.Count > 0 && _held.TryGetValue(write.Key, out var earlier))
                after = after is null ? earlier : Task.WhenAll(after, earlier);
            // Pending before queued: were it the other way round, the loop could commit the write and clear its
            // (absent) entry before it is set, leaving a stale entry that loads would return forever.
            _pending[write.Key] = write;
            if (after is { IsCompleted: false })
            {
                // Release reads the box under the lock, so it sees the task assigned even if `after` completes at once.
                var queued = new StrongBox<Task>();
                queued.Value = after.ContinueWith(_ => Release(write, queued), CancellationToken.None, TaskContinuationOptions.None,
                    TaskScheduler.Default);
                _held[write.Key] = queued.Value;
                return write.Done.Task;
            }
            if (Queue(write)) return write.Done.Task;
        }
        return Task.FromException(new ObjectDisposedException(nameof(StateBatcher)));
    }

    /// <summary>Under <see cref="_enqueue"/>: the write joins the queue, or, once disposed, is no longer pending.</summary>
    private bool Queue(PendingWrite write)
    {
        if (_writes.Writer.TryWrite(write)) return true;
        _pending.TryRemove(KeyValuePair.Create(write.Key, write));
        return false;
    }

    /// <summary>A held write's wait is over: it joins the queue, in the order its key's writes were handed in.</summary>
    private void Release(PendingWrite write, StrongBox<Task> queued)
    {
        lock (_enqueue)
        {
            if (_held.TryGetValue(write.Key, out var last) && last == queued.Value) _held.Remove(write.Key);
            if (Queue(write)) return;
        }
        write.Done.TrySetException(new ObjectDisposedException(nameof(StateBatcher)));
    }

    private async Task WriteLoop()
    {
        var reader = _writes.Reader;
        var batch = new List<PendingWrite>(_maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            try
            {
                while (batch.Count < _maxBatch && reader.TryRead(out var write)) batch.Add(write);
                await CommitAsync(batch).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Out of memory, or a bug, outside the commit's own handling: the loop lives on (were it to end, every
                // later save would wait for ever) and this batch fails, so its entities save again.
                foreach (var w in batch)
                {
                    _pending.TryRemove(KeyValuePair.Create(w.Key, w));
                    w.Done.TrySetException(ex);
                }
            }
            batch.Clear();
        }
    }

    private async Task CommitAsync(List<PendingWrite> batch)
    {
        Exception? failure = null;
        try
        {
            // Per row, in order: a save or a delete replaces what came before it, a merge goes on top of it. Saves and
            // deletes then touch disjoint keys, and a merge is left to the store only for a row not replaced here.
            var last = new Dictionary<(string Kind, string Id), RowWrite>(batch.Count);
            foreach (var w in batch)
            {
                if (w.Rows is { } rows)
                {
                    foreach (var r in rows.Saves) last[(r.Kind, r.Id)] = new RowWrite(true, r);
                    foreach (var key in rows.Deletes) last[key] = new RowWrite(true, null);
                    foreach (var m in rows.Merges)
                        if (last.TryGetValue((m.Kind, m.Id), out var before)) before.Deltas.Add(m.Delta);
                        else last[(m.Kind, m.Id)] = new RowWrite(false, null) { Deltas = { m.Delta } };
                }
                last[w.Key] = new RowWrite(true, w.State);
            }
            var saves = new List<StoredState>(last.Count);
            var deletes = new List<(string, string)>();
            var merges = new List<RowMerge>();
            foreach (var (key, write) in last)
                if (!write.Replaces) merges.Add(new RowMerge(key.Kind, key.Id, write.Deltas));
                else if (write.Deltas.Count > 0)
                    saves.Add(new StoredState(key.Kind, key.Id, OwnedRows.Merge(key.Kind, write.State?.State, write.Deltas), 0, null));
                else if (write.State is { } s) saves.Add(s);
                else deletes.Add(key);
            await _store.WriteAsync(saves, deletes, merges).ConfigureAwait(false);
            Interlocked.Increment(ref _commits);
            if (batch.Count > Interlocked.Read(ref _largestBatch)) Interlocked.Exchange(ref _largestBatch, batch.Count);
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        // Only after the commit (loads then find the value in the store), and only if no newer write of the key came in.
        foreach (var w in batch) _pending.TryRemove(KeyValuePair.Create(w.Key, w));
        foreach (var w in batch)
            if (failure is null) w.Done.TrySetResult();
            else w.Done.TrySetException(failure);
    }

    private async Task LoadLoop()
    {
        var reader = _loads.Reader;
        var batch = new List<PendingLoad>(_maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            try
            {
                while (batch.Count < _maxBatch && reader.TryRead(out var load)) batch.Add(load);
                await Task.WhenAll(batch.GroupBy(l => l.Kind, StringComparer.Ordinal).Select(LoadKindAsync)).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // As in the write loop: the loads fail (their entities restart and load again), the loop lives on.
                foreach (var l in batch) l.Done.TrySetException(ex);
            }
            batch.Clear();
        }
    }

    private async Task LoadKindAsync(IGrouping<string, PendingLoad> loads)
    {
        try
        {
            var ids = loads.Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
            Interlocked.Increment(ref _loadQueries);
            var found = (await _store.LoadAsync(loads.Key, ids).ConfigureAwait(false)).ToDictionary(s => s.Id, StringComparer.Ordinal);
            foreach (var l in loads) l.Done.TrySetResult(found.GetValueOrDefault(l.Id));
        }
        catch (Exception ex)
        {
            foreach (var l in loads) l.Done.TrySetException(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_enqueue) _writes.Writer.TryComplete();
        _loads.Writer.TryComplete();
        await Task.WhenAll(_writeLoop, _loadLoop).ConfigureAwait(false);
    }

    /// <summary>What a batch does to one row: replace it (save, or delete when State is null) or not, then apply deltas.</summary>
    private sealed record RowWrite(bool Replaces, StoredState? State)
    {
        public List<byte[]> Deltas { get; } = [];
    }

    /// <summary>A save (State set) or a delete (State null) waiting for its commit.</summary>
    private sealed class PendingWrite((string Kind, string Id) key, StoredState? state, RowChanges? rows)
    {
        public (string Kind, string Id) Key { get; } = key;
        public StoredState? State { get; } = state;
        public RowChanges? Rows { get; } = rows;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class PendingLoad(string kind, string id)
    {
        public string Kind { get; } = kind;
        public string Id { get; } = id;
        public TaskCompletionSource<StoredState?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Owned rows (<see cref="OwnedRows"/>) to upsert, delete and merge (a delta applied to the stored row) together
/// with their owner's state. <see cref="Taken"/> is the owner's own record of what it handed over, for a failed save.</summary>
public sealed record RowChanges(IReadOnlyList<StoredState> Saves, IReadOnlyList<(string Kind, string Id)> Deletes,
    IReadOnlyList<(string Kind, string Id, byte[] Delta)> Merges, object? Taken = null);
