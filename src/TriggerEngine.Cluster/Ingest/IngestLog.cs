using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Cluster.Products;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Ingest;

/// <summary>
/// The node's write-ahead log of accepted requests, and the checkpoint coordinator.
/// <para>An accepted request is one journal row (Akka.Persistence.Sql batches concurrent writes into one
/// transaction), written before anything is applied; then its calls go to the customer and product
/// entities, each of which acknowledges. The request is answered when every entity has acknowledged.</para>
/// <para>Checkpoint rounds: every <c>interval</c> the log takes the position <c>D</c> up to which every record
/// is acknowledged, asks every entity those records changed to save its state (each message it sent before
/// is ahead of the request in the entity's mailbox), records <c>D</c>, and deletes the journal up to it.
/// After a crash, entities load their last saved state and the log replays the records after <c>D</c>;
/// entities skip records their saved state already contains, and decisions are deduplicated by id in the
/// outbox, so nothing is lost or doubled.</para>
/// </summary>
public sealed class IngestLog : ReceivePersistentActor, IWithTimers
{
    private readonly IActorRef _customers;
    private readonly IActorRef _products;
    private readonly IActorRef _timers;
    private readonly IStateStore _store;
    private readonly JournalPurge _purge;
    private readonly IngestPressure _pressure;
    private readonly EngineReadiness _readiness;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _roundTimeout;
    private readonly TimeSpan _pendingTimeout;
    private readonly int _checkpointWindow;
    private readonly TimeSpan _windowDoublesEvery;
    private readonly string _checkpointKey;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly LogStats _stats = new();
    private long _checkpointed;
    private long _lastDispatched;
    private bool _recovered;
    private readonly Queue<(long Seq, IIngestRecord Record)> _replay = new();
    private readonly SortedDictionary<long, PendingRecord> _pending = new();
    private readonly Dictionary<long, long> _expired = new();

    private HashSet<string> _dirtyCustomers = new();
    private HashSet<string> _dirtyProducts = new();
    private Round? _round;
    private long _roundNumber;
    private List<(IActorRef ReplyTo, object Reply)> _nextRoundWaiters = new();

    public ITimerScheduler Timers { get; set; } = null!;
    public override string PersistenceId { get; }

    public IngestLog(string logId, IActorRef customers, IActorRef products, IActorRef timers, IStateStore store,
        JournalPurge purge, IngestPressure pressure, EngineReadiness readiness, TimeSpan checkpointInterval,
        TimeSpan? roundTimeout = null, int checkpointWindow = DefaultCheckpointWindow, TimeSpan? windowDoublesEvery = null,
        TimeSpan? pendingTimeout = null)
    {
        _pendingTimeout = pendingTimeout ?? DefaultPendingTimeout;
        _windowDoublesEvery = windowDoublesEvery ?? TimeSpan.FromMilliseconds(500);
        _roundTimeout = roundTimeout ?? DefaultRoundTimeout;
        _checkpointWindow = checkpointWindow > 0 ? checkpointWindow : int.MaxValue;
        PersistenceId = "ingest-log-" + logId;
        _checkpointKey = "log-checkpoint/" + logId;
        _customers = customers;
        _products = products;
        _timers = timers;
        _store = store;
        _purge = purge;
        _pressure = pressure;
        _readiness = readiness;
        _interval = checkpointInterval;
        // A restarted log starts with nothing pending: whatever was admitted before is gone with it.
        pressure.Reset();
        // Read once, before recovery needs it; a node cannot do anything useful without its store anyway.
        _checkpointed = long.TryParse(store.GetMetaAsync(_checkpointKey).GetAwaiter().GetResult(), out var d) ? d : 0;

        Recover<IIngestRecord>(r =>
        {
            if (LastSequenceNr > _checkpointed) _replay.Enqueue((LastSequenceNr, r));
        });
        Recover<LogMark>(_ => { });
        Recover<RecoveryCompleted>(_ => Replay());

        Command<AppendCalls>(cmd =>
        {
            var replyTo = Sender;
            if (RefuseWhileReplaying(replyTo, cmd.Calls.Count)) return;
            var asked = Stopwatch.GetTimestamp();
            PersistAsync(new CallsRecord(cmd.Calls, cmd.ReceivedAt), r =>
            {
                _stats.Written(asked);
                Dispatch(LastSequenceNr, r, replyTo);
            });
        });
        Command<AppendCatalog>(cmd =>
        {
            var replyTo = Sender;
            if (RefuseWhileReplaying(replyTo, 0)) return;
            PersistAsync(new CatalogRecord(cmd.Updates), r => Dispatch(LastSequenceNr, r, replyTo));
        });
        Command<EventsIngested>(a =>
        {
            _dirtyCustomers.Add(a.CustomerId);
            if (a.AlsoCustomers is { } cs) _dirtyCustomers.UnionWith(cs);
            if (a.AlsoProducts is { } ps) _dirtyProducts.UnionWith(ps);
            Acknowledged(a.Seq, null, a.CustomerId);
        });
        Command<ProductAck>(a =>
        {
            _dirtyProducts.Add(a.ProductId);
            if (a.Notified is { } cs) _dirtyCustomers.UnionWith(cs);
            Acknowledged(a.Seq, null, a.ProductId);
        });
        Command<ApplyFailed>(f =>
        {
            if (_pending.TryGetValue(f.Seq, out var replayed) && replayed.ReplyTo.IsNobody())
            {
                RetryReplayed(f, replayed);
                return;
            }
            _log.Warning("Record {0}: {1} failed: {2}", f.Seq, f.EntityId, f.Reason);
            Acknowledged(f.Seq, f.Reason, f.EntityId);
        });
        // Block bodies: HashSet.Add/Remove return bool, which would make the lambda a Func<T, bool> handler and
        // count every entity already in the set as an unhandled message.
        Command<MarkDirty>(m => { (m.Kind == EntityKind.Customer ? _dirtyCustomers : _dirtyProducts).Add(m.Id); });
        Command<SavedAndStopped>(OnSavedAndStopped);
        Command<EraseThroughLog>(e =>
        {
            var replyTo = Sender;
            EraseAsync(e.CustomerId).PipeTo(Self, success: erased => new EntityErased(erased, replyTo),
                failure: ex => new EraseFailed(ex, replyTo));
        });
        Command<EntityErased>(e =>
        {
            _dirtyCustomers.Remove(e.Erased.CustomerId);
            if (e.Erased.Products is { } products) _dirtyProducts.UnionWith(products);
            // Answer once a checkpoint that starts after the erasure has saved the products and truncated the log.
            _nextRoundWaiters.Add((e.ReplyTo, e.Erased with { Products = null }));
            StartRound();
        });
        Command<EraseFailed>(e => e.ReplyTo.Tell(new Status.Failure(e.Cause)));
        Command<CheckpointNow>(_ =>
        {
            _nextRoundWaiters.Add((Sender, CheckpointNow.Instance));
            StartRound();
        });
        Command<CheckpointTick>(_ => StartRound());
        Command<ExpireStaleRecords>(_ => ExpireStale());
        Command<RoundTimedOut>(t =>
        {
            if (_round is not { } round || round.Number != t.Round || round.Remaining <= 0) return;
            // An entity that never answers must not stop checkpoints for good (the log would never be truncated):
            // the round fails, and its entities and waiters go into the next one.
            var waitingFor = round.Customers.Where(id => !round.Answered.Contains((EntityKind.Customer, id))).Select(id => "customer " + id)
                .Concat(round.Products.Where(id => !round.Answered.Contains((EntityKind.Product, id))).Select(id => "product " + id)).Take(5);
            _log.Warning("Checkpoint {0}: {1} of {2} entities did not answer within {3} (e.g. {4}); retrying them in the next round",
                round.Number, round.Remaining, round.Customers.Count + round.Products.Count, _roundTimeout, string.Join(", ", waitingFor));
            EndRound(ok: false);
        });
        Command<Checkpointed>(OnCheckpointed);
        Command<CheckpointStored>(OnCheckpointStored);
        Command<CheckpointStoreFailed>(f =>
        {
            if (_round?.Number != f.Round) return;
            _log.Error(f.Cause, "Recording the checkpoint failed; the next round retries");
            EndRound(ok: false);
        });
        Command<DeleteMessagesSuccess>(d => _purge.PurgeAsync(PersistenceId, d.ToSequenceNr)
            .PipeTo(Self, success: _ => new LogTruncated(null), failure: ex => new LogTruncated(ex)));
        Command<DeleteMessagesFailure>(f => Self.Tell(new LogTruncated(f.Cause)));
        Command<LogTruncated>(t =>
        {
            if (t.Error is { } e) _log.Warning("Truncating the ingest log failed: {0}", e.Message);
            // The checkpoint itself stands either way; only waiters for the truncation (erasure) wait for the next round.
            EndRound(ok: t.Error is null);
        });
    }

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer("checkpoint", CheckpointTick.Instance, _interval);
        Timers.StartPeriodicTimer("stale-records", ExpireStaleRecords.Instance, _pendingTimeout / 2);
    }

    /// <summary>
    /// A live record some entity never acknowledged would stay pending for good: the checkpoint could never pass it, the
    /// journal would never be truncated again, and its events would hold room in <see cref="IngestPressure"/>. Its client
    /// was answered 503 after the ask timeout (half of <see cref="_pendingTimeout"/> by default) and retries it as a new
    /// record, so SPEC promises nothing more for this one: it completes as failed, naming the entities it went to.
    /// A replayed record has no client to retry it (it was answered 200 before the crash): it stays pending, and is
    /// reported, so that the node does not become ready having dropped it.
    /// </summary>
    private void ExpireStale()
    {
        List<long>? expired = null;
        foreach (var (seq, p) in _pending)
        {
            if (Stopwatch.GetElapsedTime(p.DispatchedAt) < _pendingTimeout) break; // in dispatch order: the rest are younger
            if (p.ReplyTo.IsNobody())
            {
                if (!p.Reported)
                    _log.Error("Replayed record {0}: {1} of its entities have not acknowledged it after {2}; still waiting; {3}",
                        seq, p.Remaining, _pendingTimeout, Targets(seq, p));
                p.Reported = true;
                continue;
            }
            (expired ??= new()).Add(seq);
        }
        if (expired is null) return;
        foreach (var seq in expired)
        {
            var p = _pending[seq];
            _pending.Remove(seq);
            // Remembered a while, so that an acknowledgement arriving late says so (late, or never: not known yet).
            _expired[seq] = Stopwatch.GetTimestamp();
            if (_expired.Count > 100) _expired.Remove(_expired.Keys.Min());
            _log.Warning("Record {0}: {1} of its entities did not acknowledge it within {2}; it fails (its client was answered 503); {3}",
                seq, p.Remaining, _pendingTimeout, Targets(seq, p));
            p.Failure ??= $"{p.Remaining} entities did not acknowledge it within {_pendingTimeout}";
            Complete(seq, p);
        }
    }

    /// <summary>
    /// A replayed record has no client to retry it (it was answered 200 before the crash), so an entity that failed to
    /// apply it (a store read or the outbox failed) is sent its part again a second later, until it succeeds. Live, the
    /// record fails instead and its client retries it as a new record.
    /// </summary>
    private void RetryReplayed(ApplyFailed f, PendingRecord p)
    {
        var again = RecordDispatch.Messages(f.Seq, p.Record).Where(m => EntityCommand.Id(m) == f.EntityId).ToList();
        // A customer a merged profile forwarded the part to answers in that profile's name, which forwards it again.
        // None only for an entity the record did not address: the record then waits, reported like any replayed record
        // not acknowledged in time.
        _log.Warning("Replayed record {0}: {1} failed ({2}); {3}", f.Seq, f.EntityId, f.Reason,
            again.Count > 0 ? $"its part ({again.Count} messages) is sent to it again in 1 s" : "nothing of it addressed to that entity: still waiting");
        foreach (var m in again) Context.System.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(1), RegionOf(m), m, Self);
    }

    /// <summary>The shard region an entity command goes to.</summary>
    private IActorRef RegionOf(object message) => message is IWithProductId ? _products : _customers;

    /// <summary>The entities a record went to, for a log line (the first ten); for a catalog record, those that did not
    /// answer.</summary>
    private static string Targets(long seq, PendingRecord pending)
    {
        var record = pending.Record;
        IEnumerable<string> ids = record switch
        {
            CallsRecord calls => RecordDispatch.Messages(seq, calls).Select(m => EntityCommand.Target(m) ?? m.GetType().Name),
            // With where each silent product's update stopped, when it ran on this node.
            CatalogRecord catalog => catalog.Updates.Select(u => u.ProductId).Distinct().Where(id => pending.Answered?.Contains(id) != true)
                .Select(id => "product " + id + (CatalogUpdateWatch.Describe(id, seq) is { } at ? $" ({at})" : "")),
            _ => [],
        };
        var all = ids.Distinct().ToList();
        return (pending.Answered is null ? "sent to: " : "not answered by: ") + string.Join(", ", all.Take(10)) +
               (all.Count > 10 ? $" and {all.Count - 10} more" : "");
    }

    /// <summary>The customer deletes its state row and stops; the products that knew of its interest forget it.</summary>
    private async Task<CustomerErased> EraseAsync(string customerId)
    {
        var timeout = TimeSpan.FromSeconds(30);
        var erased = await _customers.Ask<CustomerErased>(new EraseCustomer(customerId), timeout);
        await Task.WhenAll((erased.Products ?? []).Select(p => _products.Ask<ProductAck>(new ForgetCustomer(p, customerId), timeout)));
        return erased;
    }

    /// <summary>Position up to which every record is acknowledged by every entity it went to.</summary>
    private long AppliedThrough => _pending.Count == 0 ? _lastDispatched : _pending.Keys.First() - 1;

    private void Replay()
    {
        _log.Info("Ingest log: checkpoint at {0}, replaying {1} records after it", _checkpointed, _replay.Count);
        _replayStartedAt = Stopwatch.GetTimestamp();
        _replayRecords = _replay.Count;
        _lastDispatched = Math.Max(_checkpointed, LastSequenceNr - _replay.Count);
        PumpReplay();
        CheckRecovered();
    }

    /// <summary>
    /// Replays in the order the records were applied live: up to <see cref="ReplayWindow"/> request records at once
    /// (live, concurrent requests overlapped as much), except where <see cref="ReplayOrder"/> says a record must wait
    /// for the ones before it: a catalog record for all of them, a request with an identify merge for those that
    /// share a customer or profile with it.
    /// </summary>
    private void PumpReplay()
    {
        while (_replay.TryPeek(out var next))
        {
            if (_pending.Count >= ReplayWindow) return;
            if (_replayHead?.Seq != next.Seq) _replayHead = (next.Seq, ReplayOrder.Of(next.Record));
            var order = _replayHead.Value.Order;
            foreach (var p in _pending.Values)
                if (p.ReplayOrder is { } pending && order.ConflictsWith(pending)) return;
            _replay.Dequeue();
            _replayHead = null;
            Dispatch(next.Seq, next.Record, ActorRefs.Nobody, order);
        }
    }

    private const int ReplayWindow = 16;
    private (long Seq, ReplayOrder Order)? _replayHead;
    private long _replayStartedAt;
    private int _replayRecords;

    /// <summary>Requests that arrive while the log replays would overtake the records before them: 503, retry.</summary>
    private bool RefuseWhileReplaying(IActorRef replyTo, int admittedEvents)
    {
        if (_replay.Count == 0) return false;
        _pressure.Applied(admittedEvents);
        replyTo.Tell(new Status.Failure(new InvalidOperationException(
            $"the node is replaying its ingest log after a restart ({_replay.Count} records left)")));
        return true;
    }

    private void CheckRecovered()
    {
        if (_replay.Count > 0) PumpReplay();
        if (_recovered || _pending.Count > 0 || _replay.Count > 0) return;
        _recovered = true;
        if (_replayRecords > 0)
            _log.Info("Ingest log: replayed {0} records in {1:F0} ms", _replayRecords, Stopwatch.GetElapsedTime(_replayStartedAt).TotalMilliseconds);
        _readiness.MarkLogRecovered();
        _timers.Tell(LogRecovered.Instance);
    }

    /// <summary>Sends a record to the entities, in the order <see cref="RecordDispatch"/> gives for calls.</summary>
    private void Dispatch(long seq, IIngestRecord record, IActorRef replyTo, ReplayOrder? replayOrder = null)
    {
        var messages = 0;
        foreach (var message in RecordDispatch.Messages(seq, record))
        {
            RegionOf(message).Tell(message);
            messages++;
        }
        var events = record switch { CallsRecord calls => calls.Calls.Count, CatalogRecord catalog => catalog.Updates.Count, _ => 0 };
        _lastDispatched = seq;
        // Replayed records and catalog feeds were never admitted through the pressure gauge.
        var pending = new PendingRecord(record, Stopwatch.GetTimestamp(), replyTo, messages,
            replyTo.IsNobody() || record is CatalogRecord ? 0 : events,
            replayOrder); // only the replay orders by it; live requests are not scanned for it
        if (messages == 0) Complete(seq, pending);
        else _pending[seq] = pending;
    }

    private void Acknowledged(long seq, string? failure, string entityId)
    {
        if (seq <= 0) return;
        if (!_pending.TryGetValue(seq, out var p))
        {
            if (_expired.TryGetValue(seq, out var expiredAt))
                _log.Warning("Record {0}: {1} acknowledged it {2:F1} s after it expired", seq, entityId,
                    Stopwatch.GetElapsedTime(expiredAt).TotalSeconds);
            return;
        }
        p.Answered?.Add(entityId);
        if (failure is not null) p.Failure ??= failure;
        if (--p.Remaining > 0) return;
        _pending.Remove(seq);
        Complete(seq, p);
    }

    private void Complete(long seq, PendingRecord p)
    {
        _stats.Applied(p.DispatchedAt);
        _pressure.Applied(p.Events);
        if (!p.ReplyTo.IsNobody())
            p.ReplyTo.Tell(p.Failure is null ? new RecordApplied(seq)
                : new Status.Failure(new InvalidOperationException($"Applying the request failed: {p.Failure}")));
        CheckRecovered();
    }

    private void StartRound()
    {
        if (_round is not null || !_recovered) return;
        var through = AppliedThrough;
        if (_dirtyCustomers.Count == 0 && _dirtyProducts.Count == 0 && through <= _checkpointed && _nextRoundWaiters.Count == 0)
            return;
        var round = new Round(++_roundNumber, through, _dirtyCustomers, _dirtyProducts, _nextRoundWaiters);
        (_dirtyCustomers, _dirtyProducts, _nextRoundWaiters) = (new(), new(), new());
        _round = round;
        round.StartedAt = Stopwatch.GetTimestamp();
        Timers.StartSingleTimer("round-timeout", new RoundTimedOut(round.Number), _roundTimeout);
        if (round.Remaining == 0) SaveCheckpoint(round);
        else AskNext(round);
    }

    /// <summary>
    /// Keeps at most <see cref="_checkpointWindow"/> entities of the round saving at once, doubling every half second
    /// the round has run. Asked all together, the 10k–15k entities of a round queued their encodes ahead of every
    /// request dispatched meanwhile and held those requests back by up to a second (the half-rate p99). A fixed small
    /// window, under full load, stretched rounds from 2 s to 10 s, and with them what a restart replays; the doubling
    /// ends a busy round within a few seconds of what it took before. Each entity applied everything up to the round's
    /// position before the round began, so asking it later still saves that; it may save more, which a replay skips.
    /// </summary>
    private void AskNext(Round round)
    {
        var doublings = (int)Math.Min(20, Stopwatch.GetElapsedTime(round.StartedAt) / _windowDoublesEvery);
        var window = _checkpointWindow >= int.MaxValue >> doublings ? int.MaxValue : _checkpointWindow << doublings;
        while (round.InFlight < window && round.ToAsk.TryDequeue(out var entity))
        {
            if (round.Answered.Contains(entity)) continue; // it saved and stopped meanwhile: asking would start it again
            round.Asked.Add(entity);
            round.InFlight++;
            (entity.Kind == EntityKind.Customer ? _customers : _products).Tell(new Checkpoint(entity.Id, round.Number));
        }
    }

    private void OnCheckpointed(Checkpointed c)
    {
        if (_round is not { } round || c.Round != round.Number) return;
        if (c is { Kind: { } kind, EntityId: { } id }) Answer(round, (kind, id), c.Ok);
        else
        {
            // An answer that does not name its entity (none of ours) counts as it comes.
            round.InFlight = Math.Max(0, round.InFlight - 1);
            Count(round, c.Ok);
        }
    }

    /// <summary>An entity that saved everything it applied and stopped: out of the next round's set, and an answer
    /// to the current round if that asked it (its records up to the round's position were applied before the round
    /// started, so the save holds them). Its checkpoint request may yet start a new incarnation; that answer is
    /// not counted twice.</summary>
    private void OnSavedAndStopped(SavedAndStopped s)
    {
        var customer = s.Kind == EntityKind.Customer;
        (customer ? _dirtyCustomers : _dirtyProducts).Remove(s.EntityId);
        if (_round is { Remaining: > 0 } round && (customer ? round.Customers : round.Products).Contains(s.EntityId))
            Answer(round, (s.Kind, s.EntityId), ok: true);
    }

    /// <summary>Counts an entity's first answer in <paramref name="round"/>; a second one (a stopped entity's new
    /// incarnation answering the same request) is ignored.</summary>
    private void Answer(Round round, (EntityKind, string) entity, bool ok)
    {
        if (!round.Answered.Add(entity)) return;
        if (ok) round.Saved.Add(entity);
        if (round.Asked.Contains(entity)) round.InFlight--;
        Count(round, ok);
    }

    private void Count(Round round, bool ok)
    {
        if (!ok) round.Failed = true;
        if (--round.Remaining > 0)
        {
            AskNext(round);
            return;
        }
        if (round.Failed) EndRound(ok: false);
        else SaveCheckpoint(round);
    }

    private void SaveCheckpoint(Round round) =>
        _store.SetMetaAsync(_checkpointKey, round.Through.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .PipeTo(Self, success: () => new CheckpointStored(round.Number), failure: ex => new CheckpointStoreFailed(round.Number, ex));

    private void OnCheckpointStored(CheckpointStored s)
    {
        if (_round is not { } round || s.Round != round.Number) return;
        _checkpointed = round.Through;
        if (round.Through > 0)
        {
            // The journal keeps its highest row when deleting; a mark after D makes every data row up to D go.
            // The round ends once the rows are gone (DeleteMessagesSuccess, then the purge): erasure waits for that.
            Persist(new LogMark(round.Through), _ => DeleteMessages(round.Through));
        }
        else EndRound(ok: true);
        _log.Info("Checkpoint {0} at {1}: {2} customers, {3} products saved in {4:F0} ms; since the last: {5}", round.Number,
            round.Through, round.Customers.Count, round.Products.Count, Stopwatch.GetElapsedTime(round.StartedAt).TotalMilliseconds,
            _stats.TakeSummary());
    }

    private void EndRound(bool ok)
    {
        if (_round is not { } round) return;
        _round = null;
        if (ok)
        {
            foreach (var (replyTo, reply) in round.Waiters)
                replyTo.Tell(reply is CheckpointNow ? new CheckpointDone(round.Through) : reply);
            if (_nextRoundWaiters.Count > 0) StartRound();
            return;
        }
        // Nothing is lost: the entities that did not save are asked again next round, and the waiters wait for it.
        // (Asking again the ones that saved would restart every stopped one: at 1M customers a failed round's
        // set then grew round after round.)
        _dirtyCustomers.UnionWith(round.Customers.Where(id => !round.Saved.Contains((EntityKind.Customer, id))));
        _dirtyProducts.UnionWith(round.Products.Where(id => !round.Saved.Contains((EntityKind.Product, id))));
        _nextRoundWaiters.AddRange(round.Waiters);
    }

    /// <summary>How long a checkpoint round waits for its entities before it fails and they go into the next.</summary>
    public static readonly TimeSpan DefaultRoundTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long a live record waits for its entities' acknowledgements before it fails (<see cref="ExpireStale"/>):
    /// twice the default ask timeout, after which its client has long been answered.</summary>
    public static readonly TimeSpan DefaultPendingTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How many entities of a checkpoint round save at once at first (<see cref="AskNext"/>); 0: all of them.</summary>
    public const int DefaultCheckpointWindow = 64;

    public static Props Props(string logId, IActorRef customers, IActorRef products, IActorRef timers, IStateStore store,
        JournalPurge purge, IngestPressure pressure, EngineReadiness readiness, TimeSpan checkpointInterval,
        TimeSpan? roundTimeout = null, int checkpointWindow = DefaultCheckpointWindow, TimeSpan? windowDoublesEvery = null,
        TimeSpan? pendingTimeout = null) =>
        Akka.Actor.Props.Create(() => new IngestLog(logId, customers, products, timers, store, purge, pressure, readiness,
            checkpointInterval, roundTimeout, checkpointWindow, windowDoublesEvery, pendingTimeout));

    private sealed class PendingRecord(IIngestRecord record, long dispatchedAt, IActorRef replyTo, int remaining, int events,
        ReplayOrder? replayOrder)
    {
        public IIngestRecord Record { get; } = record;
        /// <summary>Entities that answered, kept for catalog records only (rare, and the one kind seen stuck): the log line
        /// of a record that never completes then names the silent ones.</summary>
        public HashSet<string>? Answered { get; } = record is CatalogRecord ? new() : null;
        public bool Reported { get; set; }
        public ReplayOrder? ReplayOrder { get; } = replayOrder;
        public long DispatchedAt { get; } = dispatchedAt;
        public IActorRef ReplyTo { get; } = replyTo;
        public int Remaining { get; set; } = remaining;
        public int Events { get; } = events;
        public string? Failure { get; set; }
    }

    private sealed class Round(long number, long through, HashSet<string> customers, HashSet<string> products,
        List<(IActorRef, object)> waiters)
    {
        public long Number { get; } = number;
        public long Through { get; } = through;
        public HashSet<string> Customers { get; } = customers;
        public HashSet<string> Products { get; } = products;
        public List<(IActorRef ReplyTo, object Reply)> Waiters { get; } = waiters;
        public int Remaining { get; set; } = customers.Count + products.Count;
        public HashSet<(EntityKind, string)> Answered { get; } = new();
        public Queue<(EntityKind Kind, string Id)> ToAsk { get; } = new(customers.Select(id => (EntityKind.Customer, id))
            .Concat(products.Select(id => (EntityKind.Product, id))));
        public HashSet<(EntityKind, string)> Asked { get; } = new();
        public int InFlight { get; set; }
        public HashSet<(EntityKind, string)> Saved { get; } = new();
        public bool Failed { get; set; }
        public long StartedAt { get; set; }
    }

    private sealed record CheckpointTick
    {
        public static readonly CheckpointTick Instance = new();
    }

    private sealed record ExpireStaleRecords
    {
        public static readonly ExpireStaleRecords Instance = new();
    }

    private sealed record RoundTimedOut(long Round);
    private sealed record CheckpointStored(long Round);
    private sealed record CheckpointStoreFailed(long Round, Exception Cause);
    private sealed record LogTruncated(Exception? Error);
    private sealed record EntityErased(CustomerErased Erased, IActorRef ReplyTo);
    private sealed record EraseFailed(Exception Cause, IActorRef ReplyTo);
}

/// <summary>How long records wait for their journal write and for the entities, between two checkpoints.</summary>
internal sealed class LogStats
{
    private long _written, _writeTicks, _applied, _applyTicks, _maxApplyTicks;

    public void Written(long since)
    {
        _written++;
        _writeTicks += Stopwatch.GetTimestamp() - since;
    }

    public void Applied(long since)
    {
        var t = Stopwatch.GetTimestamp() - since;
        _applied++;
        _applyTicks += t;
        if (t > _maxApplyTicks) _maxApplyTicks = t;
    }

    public string TakeSummary()
    {
        static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        var summary = $"{_written} records written (mean {(_written == 0 ? 0 : Ms(_writeTicks) / _written):F1} ms), " +
            $"{_applied} applied (mean {(_applied == 0 ? 0 : Ms(_applyTicks) / _applied):F1} ms, max {Ms(_maxApplyTicks):F0} ms)";
        _written = _writeTicks = _applied = _applyTicks = _maxApplyTicks = 0;
        return summary;
    }
}

/// <summary>Events accepted and not yet applied, across this node's requests: ingestion refuses with
/// 503 + Retry-After above the limit instead of queueing without bound.</summary>
public sealed class IngestPressure(long limit)
{
    private long _pending;
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Reserves room for <paramref name="events"/>; false when the node is behind.</summary>
    public bool TryAdmit(int events)
    {
        if (Interlocked.Add(ref _pending, events) <= limit || events >= limit) return true;
        Interlocked.Add(ref _pending, -events);
        return false;
    }

    public void Applied(int events) => Interlocked.Add(ref _pending, -events);
    public void Reset() => Interlocked.Exchange(ref _pending, 0);
}
