using System.Threading.Channels;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Ports;

namespace TriggerEngine.Cluster.Persistence;

/// <summary>
/// Decisions are recorded in the outbox table before any sink sees them: group-committed (one transaction
/// for whatever is waiting), deduplicated by decisionId (one deferred and one final record at most) (a replay after a crash re-derives the
/// same records; they are recorded once), then handed to the sinks in order, then marked delivered.
/// After a crash, <see cref="RedeliverAsync"/> hands the sinks what was recorded but not marked delivered,
/// so a decision is never lost and never gets a new id.
/// </summary>
public sealed class OutboxDecisionSink : IDecisionSink, IAsyncDisposable
{
    public const int MaxBatch = 5_000;
    private static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    private readonly IStateStore _store;
    private readonly IDecisionSink _sinks;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private DateTimeOffset _lastPrune = DateTimeOffset.UtcNow;

    public OutboxDecisionSink(IStateStore store, IDecisionSink sinks)
    {
        _store = store;
        _sinks = sinks;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The key the outbox deduplicates by: a deferred record and its final record share a decisionId,
    /// and a decisionId has one final record, whatever a replay after a crash would decide the second time.</summary>
    public static string Key(TriggerDecision d) => DecisionIds.DeliveryKey(d.DecisionId, d.Outcome);

    public ValueTask WriteAsync(IReadOnlyList<TriggerDecision> decisions, CancellationToken cancellationToken = default)
    {
        if (decisions.Count == 0) return ValueTask.CompletedTask;
        var pending = new Pending(decisions, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending)) throw new InvalidOperationException("The decision outbox is closed");
        return new ValueTask(pending.Done.Task);
    }

    /// <summary>At start: hands the sinks every recorded decision not yet marked delivered.</summary>
    public async Task<int> RedeliverAsync(CancellationToken ct = default)
    {
        var total = 0;
        while (true)
        {
            var entries = await _store.UndeliveredAsync(MaxBatch, ct);
            if (entries.Count == 0) return total;
            await _sinks.WriteAsync(entries.Select(e => StateCodec.DecodeDecision(e.Payload)).ToArray(), ct);
            await _store.MarkDeliveredAsync(entries[^1].Ordinal, ct);
            total += entries.Count;
        }
    }

    private async Task RunAsync()
    {
        // Sized once for the most a batch can hold (each holds a decision or more), so that adding one never allocates:
        // an item taken off the queue then always reaches the batch, whose failure the catch below answers.
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            // Everything inside: an exception that ended this loop (out of memory, building the batch) would leave every
            // later decision waiting for ever; failed, the entities try again.
            try
            {
                var count = 0;
                while (count < MaxBatch && _queue.Reader.TryRead(out var p))
                {
                    batch.Add(p);
                    count += p.Decisions.Count;
                }
                var all = batch.SelectMany(p => p.Decisions).ToArray();
                var recorded = await _store.AppendOutboxAsync(all.Select(d => (Key(d), StateCodec.EncodeDecision(d))).ToArray());
                if (recorded.Count > 0)
                {
                    var fresh = recorded.Select(r => r.DecisionId).ToHashSet();
                    // In the order they were decided; a key twice in one batch is delivered once.
                    var deliver = all.Where(d => fresh.Remove(Key(d))).ToArray();
                    await _sinks.WriteAsync(deliver);
                    await _store.MarkDeliveredAsync(recorded[^1].Ordinal);
                }
                foreach (var p in batch) p.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                foreach (var p in batch) p.Done.TrySetException(ex);
            }
            await PruneNowAndThen();
        }
    }

    private async Task PruneNowAndThen()
    {
        if (DateTimeOffset.UtcNow - _lastPrune < TimeSpan.FromMinutes(5)) return;
        _lastPrune = DateTimeOffset.UtcNow;
        try { await _store.PruneOutboxAsync(_lastPrune - Retention); }
        catch (Exception) { /* pruning is housekeeping; the next round tries again */ }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private sealed record Pending(IReadOnlyList<TriggerDecision> Decisions, TaskCompletionSource Done);
}
