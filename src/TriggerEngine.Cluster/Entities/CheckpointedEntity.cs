using Akka.Actor;
using Akka.Event;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Persistence;

namespace TriggerEngine.Cluster.Entities;

/// <summary>
/// What customer and product entities share: state lives in memory and is loaded once on activation (a
/// batched point read), changed by the pure core, and written back in checkpoint rounds and before the
/// entity stops. The ingest log, not this actor, is what makes an accepted event durable; a checkpoint
/// only shortens what a restart replays. Messages arriving while the state loads are stashed.
/// An untyped actor with one switch per phase: a <c>ReceiveActor</c> builds its handler table for every
/// instance and again at each <c>Become</c>, which dominated the cost of activating an entity.
/// </summary>
public abstract class CheckpointedEntity : UntypedActor, IWithUnboundedStash
{
    private enum Phase { Loading, Running, Stopping }
    private Phase _phase = Phase.Loading;
    private readonly string _kind;
    private readonly StateBatcher _store;
    private long _replayFloor;
    private long _version;
    private long _savedVersion;
    // Output (decisions) on its way to the outbox, each done once recorded at last: saves wait for them all.
    private readonly List<Task> _unrecorded = [];
    private (IActorRef ReplyTo, long Round, bool StopAfter)? _heldSave;
    private bool _restarted;
    private int _savesInFlight;
    // The state as last saved, while the entity rests: decoded again by its next own message.
    private byte[]? _resting;

    private readonly ResidencyLimit? _residency;
    private ResidencyLimit.Resident? _resident;

    protected CheckpointedEntity(EntityKind kind, string id, StateBatcher store, IActorRef checkpointer,
        ResidencyLimit? residency = null)
    {
        _residency = residency;
        Kind = kind;
        _kind = kind == EntityKind.Customer ? "c" : "p";
        EntityId = id;
        _store = store;
        Checkpointer = checkpointer;
    }

    public IStash Stash { get; set; } = null!;
    /// <summary>Made on first use (on the actor's thread): a logger per entity holds its path as a string, tens of MB
    /// across 100k resident entities that almost never log.</summary>
    protected ILoggingAdapter Log => _log ??= Context.GetLogger();
    private ILoggingAdapter? _log;

    /// <summary>For continuations off the actor's thread, which may not touch <see cref="Log"/>: the system's logger.</summary>
    protected ILoggingAdapter SystemLog => Context.System.Log;
    protected EntityKind Kind { get; }

    /// <summary>This node's ingest log, which runs the checkpoint rounds.</summary>
    protected IActorRef Checkpointer { get; }
    protected string EntityId { get; }

    /// <summary>Highest ingest-log position applied; saved with the state.</summary>
    protected long AppliedSeq { get; private set; }

    private bool Dirty => _version != _savedVersion;

    /// <summary>Loading, Running or Stopping: for diagnostics.</summary>
    protected string PhaseName => _phase switch { Phase.Loading => "loading", Phase.Running => "running", _ => "stopping" };

    protected abstract void Restore(ReadOnlyMemory<byte> state);
    protected abstract byte[] Encode();

    /// <summary>
    /// The state was just saved and nothing changed since: an entity that can drop its decoded state does so and returns
    /// true, and <see cref="Restore"/> gets the saved bytes back before its next own message. A resident entity idle
    /// until its next event or timer then holds one byte array instead of a graph of objects the GC traces and
    /// promotes (perf/README, eleventh pass). Asked only while the residents fill half the limit or more
    /// (<see cref="ResidencyLimit.Crowded"/>). Only <see cref="Handle"/> and what it starts may touch the state after
    /// this; a save happens only once something changed, so after a wake-up.
    /// </summary>
    protected virtual bool Rest() => false;

    /// <summary>Rows this entity owns beside its state (<see cref="OwnedRows"/>), as stored once its own writes in flight
    /// are done; with <paramref name="rowId"/>, that row only.</summary>
    protected Task<IReadOnlyList<StoredState>> LoadOwnedRowsAsync(string rowKind, string? rowId = null) =>
        _store.LoadOwnedRowsAsync(_kind, EntityId, rowKind, rowId);

    /// <summary>The owned rows changed since the last call, to be written with the state being saved.</summary>
    protected virtual RowChanges? TakeRowChanges() => null;
    /// <summary>A save failed: the rows it carried must go into the next one.</summary>
    protected virtual void RowChangesNotSaved(RowChanges changes) { }
    protected abstract DateTimeOffset? IndexedDue();
    /// <summary>The entity's own messages, once its state is loaded; false for a message it does not know.</summary>
    protected abstract bool Handle(object message);
    protected virtual void Loaded() { }
    /// <summary>Checkpoint round <paramref name="round"/> is about to save this entity.</summary>
    protected virtual void BeforeCheckpoint(long round) { }

    /// <summary>Be asked again in the next checkpoint round even if nothing else changes.</summary>
    protected void StayInNextRound() => Checkpointer.Tell(new MarkDirty(Kind, EntityId));
    protected virtual void Stopping() { }

    protected override void PreStart() =>
        _store.LoadAsync(_kind, EntityId).PipeTo(Self, success: s => new StateLoaded(s), failure: ex => new Status.Failure(ex));

    /// <summary>
    /// The entity threw (a bug, or a failed read inside <c>RunTask</c>) and its shard restarts it, which starts a new
    /// instance from the stored row. Changes applied since the last save are already acknowledged (their requests
    /// answered 200, the log may truncate past them), so the state in memory goes to the store first: the new
    /// instance loads it (a pending write is what a load returns) and saves it again in the next round. Output still
    /// on its way to the outbox holds that write back until it is recorded, as it would hold any save.
    /// The message that threw is lost with the old instance; its sender is not answered and retries (a log record
    /// expires and its client is answered 503).
    /// </summary>
    protected override void PreRestart(Exception reason, object message)
    {
        if (_phase != Phase.Loading && Dirty)
        {
            try
            {
                var (stored, rows) = Snapshot(DueOrNone);
                var (kind, id, log) = (_kind, EntityId, SystemLog);
                // With output not yet recorded, the write waits for it in the store (loads see it meanwhile, and the new
                // instance's own writes queue behind it), as this instance's saves would have.
                _store.SaveAfterAsync(Task.WhenAll(_unrecorded), stored, rows)
                    .ContinueWith(t => log.Error(t.Exception, "Saving {0}:{1} before its restart failed: changes since its last save are lost", kind, id),
                        CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            catch (Exception ex)
            {
                Log.Error(ex, "Encoding {0}:{1} before its restart failed: changes since its last save are lost", _kind, EntityId);
            }
        }
        Log.Error(reason, "{0}:{1} failed on {2} and restarts {3}", _kind, EntityId, message?.GetType().Name ?? "(no message)",
            _phase == Phase.Loading ? "(loading its state again)" : "from its state in memory");
        base.PreRestart(reason, message);
    }

    /// <summary>What a save writes: the owned rows changed since the last one, and the state with <paramref name="due"/>.
    /// Rows first: taking them may take something out of the state (a customer's decision records).</summary>
    private (StoredState State, RowChanges? Rows) Snapshot(Func<DateTimeOffset?> due)
    {
        var rows = TakeRowChanges();
        return (new StoredState(_kind, EntityId, Encode(), AppliedSeq, due()), rows);
    }

    /// <summary>The state's next due time; none if computing it fails too (the new instance's next save sets it).</summary>
    private DateTimeOffset? DueOrNone()
    {
        try { return IndexedDue(); }
        catch (Exception ex)
        {
            Log.Error(ex, "Computing the next due time of {0}:{1} failed", _kind, EntityId);
            return null;
        }
    }

    /// <summary>The new instance after a failure: what it loads may be the old instance's save still in flight, so it
    /// counts as changed until its own save in the next round has committed.</summary>
    protected override void PostRestart(Exception reason)
    {
        _restarted = true;
        base.PostRestart(reason);
    }

    protected override void OnReceive(object message)
    {
        switch (_phase)
        {
            case Phase.Loading:
                OnLoading(message);
                break;
            case Phase.Running:
                if (OnRunning(message)) break;
                Wake();
                if (!Handle(message)) Unhandled(message);
                break;
            default:
                // Saving before a stop: the shard buffers what arrives for a fresh instance; anything else waits here.
                if (message is StateSaved saved) OnSaved(saved);
                else Stash.Stash();
                break;
        }
    }

    private void Wake()
    {
        if (_resting is not { } bytes) return;
        _resting = null;
        Restore(bytes);
    }

    private void OnLoading(object message)
    {
        switch (message)
        {
            case StateLoaded l:
                if (l.State is { } s)
                {
                    Restore(s.State);
                    AppliedSeq = _replayFloor = s.AppliedSeq;
                }
                if (_restarted) ChangedOutsideLog();
                _phase = Phase.Running;
                if (_residency is not null)
                {
                    var (resident, evict) = _residency.Enter(Self, restored: l.State is not null);
                    _resident = resident;
                    evict?.Tell(PassivateForRoom.Instance);
                }
                Loaded();
                Stash.UnstashAll();
                break;
            // A failed read restarts the actor, which reads again; stashed messages go back to the mailbox.
            case Status.Failure f:
                throw new InvalidOperationException($"Loading {_kind}:{EntityId} failed", f.Cause);
            default:
                Stash.Stash();
                break;
        }
    }

    private bool OnRunning(object message)
    {
        switch (message)
        {
            case Checkpoint c:
                BeforeCheckpoint(c.Round);
                SaveWhenRecorded(Sender, c.Round, stopAfter: false);
                return true;
            case StopEntity:
                SaveWhenRecorded(ActorRefs.Nobody, 0, stopAfter: true);
                return true;
            // Also from an instance the entity restarted from, for output this one may never have waited for.
            case OutputRecorded r:
                if (!_unrecorded.Remove(r.Output) || _unrecorded.Count > 0 || _heldSave is not { } held) return true;
                _heldSave = null;
                Save(held.ReplyTo, held.Round, held.StopAfter);
                return true;
            // The shard buffers what arrives meanwhile and starts a fresh instance for it after the stop.
            case PassivateForRoom:
                Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(StopEntity.Instance));
                return true;
            case StateSaved saved:
                OnSaved(saved);
                return true;
            default:
                return false;
        }
    }

    /// <summary>True for a log record this state already contains (replayed after a restart).</summary>
    protected bool AlreadyApplied(long seq) => seq > 0 && seq <= _replayFloor;

    /// <summary>A change that came from ingest-log record <paramref name="seq"/>; the log's checkpoint round
    /// knows about it from the acknowledgement.</summary>
    protected void ChangedByLog(long seq)
    {
        if (seq > AppliedSeq) AppliedSeq = seq;
        _version++;
    }

    /// <summary>A change from ingest-log record <paramref name="seq"/>, or from outside the log when it is 0.</summary>
    protected void Changed(long seq)
    {
        if (seq > 0) ChangedByLog(seq);
        else ChangedOutsideLog();
    }

    /// <summary>A change from outside the log (a timer, a merge, a notification): tell the checkpointer.</summary>
    protected void ChangedOutsideLog()
    {
        var wasDirty = Dirty;
        _version++;
        if (!wasDirty) Checkpointer.Tell(new MarkDirty(Kind, EntityId));
    }

    /// <summary>
    /// Output of this entity (decisions) is on its way to a durable record (the outbox): a save waits until it
    /// is there. Saved first, a crash in between would leave a state that already holds the step (so a replay
    /// skips it) and no record of what it decided. <paramref name="recorded"/> completes once the output is recorded,
    /// by whichever attempt; the caller retries failed attempts and may call this at each (output already waited for
    /// is not counted twice), so a new instance after a restart waits for the output whose retries it takes over.
    /// </summary>
    protected void AwaitRecorded(Task recorded)
    {
        if (recorded.IsCompleted || _unrecorded.Contains(recorded)) return;
        _unrecorded.Add(recorded);
        var (self, done) = (Self, new OutputRecorded(recorded));
        // Explicitly on the default scheduler: called from inside RunTask (a consent read, a merge), a plain ContinueWith
        // queues on the actor's own task scheduler, which runs it only while the actor lives.
        recorded.ContinueWith(_ => self.Tell(done), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void SaveWhenRecorded(IActorRef replyTo, long round, bool stopAfter)
    {
        if (_unrecorded.Count == 0)
        {
            Save(replyTo, round, stopAfter);
            return;
        }
        // A stop joins a held checkpoint (whose round still hears back); a checkpoint joins a held stop. A newer
        // round replaces an older one, which hears it was not saved (and retries).
        if (_heldSave is { } held)
        {
            if (held.Round > 0 && round > 0) held.ReplyTo.Tell(new Checkpointed(held.Round, false, Kind, EntityId));
            _heldSave = (round > 0 ? replyTo : held.ReplyTo, Math.Max(held.Round, round), held.StopAfter || stopAfter);
        }
        else _heldSave = (replyTo, round, stopAfter);
    }

    private void Save(IActorRef replyTo, long round, bool stopAfter)
    {
        if (!Dirty)
        {
            // A checkpoint that joined a stop still hears back, or its round would wait for ever.
            if (round > 0) replyTo.Tell(new Checkpointed(round, true, Kind, EntityId));
            if (stopAfter) StopNow();
            return;
        }
        var version = _version;
        var (stored, rows) = Snapshot(IndexedDue);
        var self = Self;
        _savesInFlight++;
        _store.SaveAsync(stored, rows).ContinueWith(t => self.Tell(new StateSaved(version, round, replyTo, stopAfter, t.Exception, rows, stored.State)),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        if (stopAfter) _phase = Phase.Stopping;
    }

    private void OnSaved(StateSaved s)
    {
        _savesInFlight--;
        if (s.Error is null && s.Version > _savedVersion) _savedVersion = s.Version;
        if (s.Error is not null)
        {
            Log.Error(s.Error, "Saving {0}:{1} failed", _kind, EntityId);
            if (s.Rows is { } rows) RowChangesNotSaved(rows);
        }
        if (s.StopAfter)
        {
            if (s.Round > 0) s.ReplyTo.Tell(new Checkpointed(s.Round, s.Error is null, Kind, EntityId));
            if (s.Error is null) StopNow();
            else Save(ActorRefs.Nobody, 0, stopAfter: true); // retry: stopping must not lose the change
            return;
        }
        s.ReplyTo.Tell(new Checkpointed(s.Round, s.Error is null, Kind, EntityId));
        // Resting needs this save to hold everything (nothing changed since its snapshot), and no other save in flight
        // whose failure would hand its rows back to the state, and no output whose recording a save waits for; and it is
        // only worth it while many entities are resident (ResidencyLimit.Crowded).
        if (s.Error is null && s.Version == _version && _savesInFlight == 0 && _unrecorded.Count == 0 && _heldSave is null
            && _resting is null && _residency is { Crowded: true } && Rest())
            _resting = s.Encoded;
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (_resident is { } resident) ResidencyLimit.Touch(resident);
        return base.AroundReceive(receive, message);
    }

    protected override void PostStop()
    {
        if (_resident is { } resident) _residency!.Leave(resident);
        base.PostStop();
    }

    /// <summary>Only once everything applied is saved: the checkpointer then leaves this entity out of its rounds.</summary>
    private void StopNow()
    {
        Checkpointer.Tell(new SavedAndStopped(Kind, EntityId));
        Stopping();
        // Stashed while the stop's save ran: the shard buffers what it routes after the stop began, so an entity command
        // here came some other way. It goes back to the shard (which buffers it for the next incarnation) rather than
        // with this actor, and says so: an unacknowledged catalog record is being looked for (perf/README, seventh pass).
        foreach (var envelope in Stash.ClearStash())
        {
            if (!EntityCommand.Is(envelope.Message)) continue;
            Log.Warning("{0}:{1} stopping with {2} stashed: sent back to its shard", _kind, EntityId, envelope.Message.GetType().Name);
            Context.Parent.Tell(envelope.Message, envelope.Sender);
        }
        Context.Stop(Self);
    }

    /// <summary>A command this entity does not know is a bug; it is logged, not only published as unhandled.</summary>
    protected override void Unhandled(object message)
    {
        if (EntityCommand.Is(message))
            Log.Warning("{0}:{1} while {2} did not handle {3}", _kind, EntityId, PhaseName, message.GetType().Name);
        base.Unhandled(message);
    }

    /// <summary>Erasure: the row goes, with the owned rows named in <paramref name="ownedRows"/>; nothing is saved on the
    /// way out.</summary>
    protected Task DeleteStateAsync(IReadOnlyList<(string Kind, string Id)>? ownedRows = null)
    {
        _savedVersion = _version;
        return _store.DeleteAsync(_kind, EntityId, ownedRows is { Count: > 0 } ? new RowChanges([], ownedRows, []) : null);
    }

    private sealed record StateLoaded(StoredState? State);
    /// <summary>Output an instance of this entity waited for is recorded.</summary>
    private sealed record OutputRecorded(Task Output);
    private sealed record StateSaved(long Version, long Round, IActorRef ReplyTo, bool StopAfter, Exception? Error, RowChanges? Rows,
        byte[] Encoded);
}
