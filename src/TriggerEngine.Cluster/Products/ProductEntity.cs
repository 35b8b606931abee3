using Akka.Actor;
using Akka.Event;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Products;

/// <summary>
/// One catalog product, sharded. Remembers who showed interest (through <see cref="ProductCatalog"/>), and
/// turns a price drop or restock into notifications to exactly those customers. It acknowledges only once
/// every notified customer has applied its notification, so the log's checkpoint covers them too.
/// </summary>
public sealed class ProductEntity : CheckpointedEntity
{
    private ProductState _state;
    // Notifications owed to customers, saved with the state until the customers' own states that contain
    // them are certainly saved: a product whose saved state already contains a record (so it skips it on a
    // replay) still delivers what that record owed. Customers drop a second copy by messageId.
    // Value: the log record the note came from, and its mark: 0 sent, not confirmed; -1 confirmed; r > 0
    // confirmed and first seen by checkpoint round r. The confirmation reached the log before round r ended, so
    // round r + 1 saves the customers, and once round r + 2 asks, r + 1 has completed: the note can go.
    private readonly Dictionary<LoggedCall, (long Seq, long Mark)> _unconfirmed = new();
    // Restored notes not re-sent yet: each goes out when the replay reaches its record, in log order.
    private readonly List<(long Seq, LoggedCall Note)> _toResend = new();
    // Customers whose interest changed (or went) since the last save: only their rows are written.
    private readonly HashSet<string> _changedInterests = new(StringComparer.Ordinal);
    private readonly string _rowPrefix;
    private readonly IJourneyRules _rules;
    private readonly IActorRef _customers;
    private readonly TimeSpan _askTimeout;

    public ProductEntity(string productId, IJourneyRules rules, StateBatcher store, IActorRef checkpointer,
        IActorRef customers, TimeSpan askTimeout, ResidencyLimit? residency = null)
        : base(EntityKind.Product, productId, store, checkpointer, residency)
    {
        _state = new ProductState(productId);
        _rowPrefix = OwnedRows.Prefix(productId);
        _rules = rules;
        _customers = customers;
        _askTimeout = askTimeout;
    }

    protected override void Restore(ReadOnlyMemory<byte> state)
    {
        _state = StateCodec.DecodeProduct(EntityId, state, out var owed);
        // Saved before interests had rows of their own: the next save writes them as rows.
        _changedInterests.UnionWith(_state.Interests.Keys);
        foreach (var o in owed)
        {
            var note = new LoggedCall(o.CustomerId, o.Note, null);
            _unconfirmed[note] = (o.Seq, 0);
            _toResend.Add((o.Seq, note));
        }
        _toResend.Sort((a, b) => a.Seq.CompareTo(b.Seq));
    }

    protected override byte[] Encode() => StateCodec.EncodeProduct(_state,
        _unconfirmed.Select(kv => new OwedNotification(kv.Value.Seq, kv.Key.CustomerId, kv.Key.Event)).ToArray());

    protected override string OwnedRowKind => OwnedRows.InterestKind;

    protected override void RestoreRows(IReadOnlyList<StoredState> rows)
    {
        foreach (var row in rows) _state.Interests[OwnedRows.RowId(row.Id, _rowPrefix)] = StateCodec.DecodeInterest(row.State);
    }

    protected override RowChanges? TakeRowChanges()
    {
        if (_changedInterests.Count == 0) return null;
        var saves = new List<StoredState>(_changedInterests.Count);
        var deletes = new List<(string, string)>();
        foreach (var customerId in _changedInterests)
        {
            var key = _rowPrefix + customerId;
            if (_state.Interests.TryGetValue(customerId, out var interest))
                saves.Add(new StoredState(OwnedRows.InterestKind, key, StateCodec.EncodeInterest(interest), 0, null));
            else deletes.Add((OwnedRows.InterestKind, key));
        }
        _changedInterests.Clear();
        return new RowChanges(saves, deletes);
    }

    protected override void RowChangesNotSaved(RowChanges changes)
    {
        foreach (var row in changes.Saves) _changedInterests.Add(OwnedRows.RowId(row.Id, _rowPrefix));
        foreach (var (_, key) in changes.Deletes) _changedInterests.Add(OwnedRows.RowId(key, _rowPrefix));
    }

    protected override void BeforeCheckpoint(long round)
    {
        if (_unconfirmed.Count == 0) return;
        foreach (var (note, (seq, mark)) in _unconfirmed.ToArray())
        {
            if (mark == -1) _unconfirmed[note] = (seq, round);
            else if (mark > 0 && round >= mark + 2) _unconfirmed.Remove(note);
        }
        if (_unconfirmed.Values.Any(m => m.Mark != 0)) StayInNextRound();
    }

    protected override DateTimeOffset? IndexedDue() => null;

    protected override bool Handle(object message)
    {
        switch (message)
        {
            case RecordInterests cmd:
                ApplyRecord(cmd.Seq, () => RecordInterests(cmd));
                return true;
            case UpdateCatalog cmd:
                ApplyRecord(cmd.Seq, () => UpdateCatalog(cmd));
                return true;
            case NotificationsConfirmed c:
                foreach (var n in c.Notes)
                    if (_unconfirmed.TryGetValue(n, out var owed) && owed.Mark == 0) _unconfirmed[n] = (owed.Seq, -1);
                StayInNextRound();
                return true;
            case ForgetCustomer cmd:
                if (ProductCatalog.Forget(_state, cmd.CustomerId))
                {
                    _changedInterests.Add(cmd.CustomerId);
                    ChangedOutsideLog();
                }
                Sender.Tell(new ProductAck(EntityId));
                return true;
            case MergeInterests cmd:
                ProductCatalog.MergeInterest(_state, cmd.From, cmd.To);
                _changedInterests.Add(cmd.From);
                _changedInterests.Add(cmd.To);
                ChangedOutsideLog();
                Sender.Tell(new ProductAck(EntityId));
                return true;
            default:
                return false;
        }
    }

    private List<(string CustomerId, CustomerEvent Note)> RecordInterests(RecordInterests cmd)
    {
        var facts = new List<(string CustomerId, CustomerEvent Note)>();
        foreach (var interest in cmd.Interests)
        {
            _changedInterests.Add(interest.CustomerId);
            // Replenishment needs consumption_days from the catalog when the order line has none.
            if (ProductCatalog.OnInterest(_state, interest) is { } f && interest.Kind == InterestKind.Ordered)
                facts.Add((interest.CustomerId, f));
        }
        return facts;
    }

    private List<(string CustomerId, CustomerEvent Note)> UpdateCatalog(UpdateCatalog cmd)
    {
        // An update prunes stale interests and a restock ends the waits: those rows change. (Rare: every interest of
        // the product is looked at.)
        var before = _state.Interests.Where(kv => kv.Value.WaitingSince is not null).Select(kv => kv.Key).ToList();
        var known = _state.Interests.Keys.ToList();
        var notes = new List<(string CustomerId, CustomerEvent Note)>();
        foreach (var update in cmd.Updates)
            notes.AddRange(ProductCatalog.OnUpdate(_state, update, _rules.Scenarios.PriceDrop.Lookback));
        _changedInterests.UnionWith(before);
        foreach (var customerId in known)
            if (!_state.Interests.ContainsKey(customerId)) _changedInterests.Add(customerId);
        return notes;
    }

    /// <summary>Applies log record <paramref name="seq"/> (unless the saved state already holds it) and
    /// delivers the notifications <paramref name="apply"/> returns; the log hears back either way.</summary>
    private void ApplyRecord(long seq, Func<List<(string CustomerId, CustomerEvent Note)>> apply)
    {
        // After a crash, notes owed from earlier records go out before this one (live, they preceded it);
        // the notes of a record the saved state already holds go out as that record's own work.
        if (_toResend.Count > 0) Notify(TakeOwed(seq - 1), ActorRefs.Nobody, 0);
        if (AlreadyApplied(seq))
        {
            Notify(TakeOwed(seq), Sender, seq);
            return;
        }
        var notes = apply();
        Changed(seq);
        Notify(notes, Sender, seq);
    }

    private List<(string CustomerId, CustomerEvent Note)> TakeOwed(long throughSeq)
    {
        var taken = new List<(string, CustomerEvent)>();
        var n = 0;
        while (n < _toResend.Count && _toResend[n].Seq <= throughSeq) n++;
        foreach (var (_, note) in _toResend.Take(n)) taken.Add((note.CustomerId, note.Event));
        _toResend.RemoveRange(0, n);
        return taken;
    }

    private void Notify(List<(string CustomerId, CustomerEvent Note)> notes, IActorRef replyTo, long seq)
    {
        var productId = EntityId;
        if (notes.Count == 0)
        {
            if (!replyTo.IsNobody()) replyTo.Tell(new ProductAck(productId, seq));
            return;
        }
        var owed = notes.Select(n => new LoggedCall(n.CustomerId, n.Note, null)).ToArray();
        foreach (var o in owed) _unconfirmed.TryAdd(o, (seq, 0));
        var byCustomer = notes.GroupBy(n => n.CustomerId).ToArray();
        var asks = byCustomer.Select(g =>
            _customers.Ask<EventsIngested>(new IngestEvents(g.Key, g.Select(n => n.Note).ToArray()), _askTimeout));
        var notified = byCustomer.Select(g => g.Key).ToArray();
        var log = Log;
        var self = Self;
        var checkpointer = Checkpointer;
        Task.WhenAll(asks).ContinueWith(t =>
        {
            // Re-sent after a restart: the log still learns which customers changed; a failure waits for the next load.
            var resend = replyTo.IsNobody();
            if (!t.IsFaulted)
            {
                // The log hears of the customers before this entity marks the notes confirmed: the pruning rule needs it.
                (resend ? checkpointer : replyTo).Tell(new ProductAck(productId, seq, notified));
                self.Tell(new NotificationsConfirmed(owed));
            }
            else if (!resend)
            {
                log.Warning(t.Exception, "Product {0}: not every customer confirmed its notification", productId);
                replyTo.Tell(seq > 0 ? new ApplyFailed(seq, productId, t.Exception!.GetBaseException().Message)
                    : new Status.Failure(t.Exception!));
            }
        }, TaskContinuationOptions.ExecuteSynchronously);
    }

    private sealed record NotificationsConfirmed(IReadOnlyList<LoggedCall> Notes);

    public static Props Props(string productId, IJourneyRules rules, StateBatcher store, IActorRef checkpointer,
        IActorRef customers, TimeSpan askTimeout, ResidencyLimit? residency = null) =>
        EntityProducer<ProductEntity>.Props(() => new ProductEntity(productId, rules, store, checkpointer, customers, askTimeout,
            residency));
}
