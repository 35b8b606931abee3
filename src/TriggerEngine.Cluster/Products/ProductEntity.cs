using System.Diagnostics;
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
    // Interests are rows of their own and are not kept in memory: only what changed since the last save, per customer,
    // which the save writes (a delta the store applies to the row, or a replacement). A catalog update, a merge or an
    // erasure reads the rows it needs.
    private Dictionary<string, PendingInterest> _pendingInterests = new(StringComparer.Ordinal);
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
        foreach (var (customerId, interest) in _state.Interests) _pendingInterests[customerId] = PendingInterest.Replace(interest);
        _state.Interests.Clear();
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

    protected override RowChanges? TakeRowChanges()
    {
        if (_pendingInterests.Count == 0) return null;
        var taken = _pendingInterests;
        _pendingInterests = new(StringComparer.Ordinal);
        var saves = new List<StoredState>();
        var deletes = new List<(string, string)>();
        var merges = new List<(string, string, byte[])>();
        foreach (var (customerId, pending) in taken)
        {
            var key = _rowPrefix + customerId;
            if (!pending.Replaces) merges.Add((OwnedRows.InterestKind, key, StateCodec.EncodeInterestSteps(pending.Steps)));
            else if (pending.ApplyTo(null) is { } interest)
                saves.Add(new StoredState(OwnedRows.InterestKind, key, StateCodec.EncodeInterest(interest), 0, null));
            else deletes.Add((OwnedRows.InterestKind, key));
        }
        return new RowChanges(saves, deletes, merges, taken);
    }

    /// <summary>What the failed save carried goes before what came since.</summary>
    protected override void RowChangesNotSaved(RowChanges changes)
    {
        foreach (var (customerId, failed) in (Dictionary<string, PendingInterest>)changes.Taken!)
            _pendingInterests[customerId] = _pendingInterests.TryGetValue(customerId, out var since) ? failed.Then(since) : failed;
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

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is UpdateCatalog u) CatalogUpdateWatch.Stage(EntityId, u.Seq, $"received while {PhaseName}");
        return base.AroundReceive(receive, message);
    }

    protected override bool Handle(object message)
    {
        switch (message)
        {
            case RecordInterests cmd:
                ApplyRecord(cmd.Seq, Sender, () => RecordInterests(cmd));
                return true;
            case UpdateCatalog cmd when AlreadyApplied(cmd.Seq):
                ApplyRecord(cmd.Seq, Sender, () => [], watched: true); // only re-sends what it owed: no need to read the interests
                return true;
            case UpdateCatalog cmd:
                var updateFrom = Sender;
                var started = Stopwatch.GetTimestamp();
                CatalogUpdateWatch.Stage(EntityId, cmd.Seq, "reading its interests");
                RunTask(async () =>
                {
                    Dictionary<string, Interest> interests;
                    try
                    {
                        interests = await AllInterestsAsync();
                        CatalogUpdateWatch.Stage(EntityId, cmd.Seq, $"read {interests.Count} interests, applying");
                        // Reading a product's interests holds its mailbox; a slow one shows here (the log fails a record
                        // no entity acknowledged after twice the ask timeout).
                        var took = Stopwatch.GetElapsedTime(started);
                        if (took > SlowRead) Log.Warning("Product {0}: reading its {1} interests for record {2} took {3:F1} s", EntityId,
                            interests.Count, cmd.Seq, took.TotalSeconds);
                    }
                    catch (Exception ex)
                    {
                        // The log fails the request (the client retries it); this entity goes on.
                        Log.Warning(ex, "Product {0}: reading its interests failed", EntityId);
                        CatalogUpdateWatch.Done(EntityId, cmd.Seq);
                        updateFrom.Tell(new ApplyFailed(cmd.Seq, EntityId, ex.Message));
                        return;
                    }
                    ApplyRecord(cmd.Seq, updateFrom, () => UpdateCatalog(cmd, interests), watched: true);
                });
                return true;
            case NotificationsConfirmed c:
                foreach (var n in c.Notes)
                    if (_unconfirmed.TryGetValue(n, out var owed) && owed.Mark == 0) _unconfirmed[n] = (owed.Seq, -1);
                StayInNextRound();
                return true;
            case ForgetCustomer cmd:
                _pendingInterests[cmd.CustomerId] = PendingInterest.Replace(null);
                ChangedOutsideLog();
                Sender.Tell(new ProductAck(EntityId));
                return true;
            case MergeInterests cmd:
                var mergeFrom = Sender;
                RunTask(async () =>
                {
                    Interest? from, to;
                    try
                    {
                        (from, to) = (await InterestOfAsync(cmd.From), await InterestOfAsync(cmd.To));
                    }
                    catch (Exception ex)
                    {
                        mergeFrom.Tell(new Status.Failure(ex)); // the customer's merge fails, and the log's request with it
                        return;
                    }
                    var view = new ProductState(EntityId);
                    if (from is not null) view.Interests[cmd.From] = from;
                    if (to is not null) view.Interests[cmd.To] = to;
                    ProductCatalog.MergeInterest(view, cmd.From, cmd.To);
                    if (cmd.From != cmd.To)
                    {
                        _pendingInterests[cmd.From] = PendingInterest.Replace(view.Interests.GetValueOrDefault(cmd.From));
                        _pendingInterests[cmd.To] = PendingInterest.Replace(view.Interests.GetValueOrDefault(cmd.To));
                        ChangedOutsideLog();
                    }
                    mergeFrom.Tell(new ProductAck(EntityId));
                });
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
            if (ProductCatalog.StepOf(_state, interest) is { } step)
            {
                if (!_pendingInterests.TryGetValue(interest.CustomerId, out var pending))
                    _pendingInterests[interest.CustomerId] = pending = new PendingInterest();
                pending.Steps.Add(step);
            }
            // Replenishment needs consumption_days from the catalog when the order line has none.
            else if (ProductCatalog.FactsFor(_state, interest) is { } f) facts.Add((interest.CustomerId, f));
        }
        return facts;
    }

    /// <summary>Runs the update on every interest (stored, with what is pending applied), then forgets them again; the
    /// interests it changed or removed are written whole by the next save. (Rare: every interest of the product is read.)</summary>
    private List<(string CustomerId, CustomerEvent Note)> UpdateCatalog(UpdateCatalog cmd, Dictionary<string, Interest> interests)
    {
        foreach (var (customerId, interest) in interests) _state.Interests[customerId] = interest;
        var touched = _state.Interests.Where(kv => kv.Value.WaitingSince is not null).Select(kv => kv.Key)
            .Concat(_pendingInterests.Keys).ToHashSet(StringComparer.Ordinal);
        var known = _state.Interests.Keys.ToList();
        var notes = new List<(string CustomerId, CustomerEvent Note)>();
        foreach (var update in cmd.Updates)
            notes.AddRange(ProductCatalog.OnUpdate(_state, update, _rules.Scenarios.PriceDrop.Lookback));
        touched.UnionWith(known.Where(customerId => !_state.Interests.ContainsKey(customerId)));
        foreach (var customerId in touched)
            _pendingInterests[customerId] = PendingInterest.Replace(_state.Interests.GetValueOrDefault(customerId));
        _state.Interests.Clear();
        return notes;
    }

    /// <summary>Every interest in the product: the stored rows with what is pending applied.</summary>
    private async Task<Dictionary<string, Interest>> AllInterestsAsync()
    {
        var interests = new Dictionary<string, Interest>(StringComparer.Ordinal);
        foreach (var row in await LoadOwnedRowsAsync(OwnedRows.InterestKind))
            interests[OwnedRows.RowId(row.Id, _rowPrefix)] = StateCodec.DecodeInterest(row.State);
        foreach (var (customerId, pending) in _pendingInterests)
            if (pending.ApplyTo(interests.GetValueOrDefault(customerId)) is { } interest) interests[customerId] = interest;
            else interests.Remove(customerId);
        return interests;
    }

    /// <summary>One customer's interest: its stored row with what is pending applied.</summary>
    private async Task<Interest?> InterestOfAsync(string customerId)
    {
        var row = (await LoadOwnedRowsAsync(OwnedRows.InterestKind, customerId)).FirstOrDefault();
        var stored = row is null ? null : StateCodec.DecodeInterest(row.State);
        return _pendingInterests.TryGetValue(customerId, out var pending) ? pending.ApplyTo(stored) : stored;
    }

    /// <summary>Applies log record <paramref name="seq"/> (unless the saved state already holds it) and
    /// delivers the notifications <paramref name="apply"/> returns; the log hears back either way.
    /// <paramref name="watched"/>: a catalog update, followed in <see cref="CatalogUpdateWatch"/> until it is answered.</summary>
    private void ApplyRecord(long seq, IActorRef replyTo, Func<List<(string CustomerId, CustomerEvent Note)>> apply,
        bool watched = false)
    {
        // After a crash, notes owed from earlier records go out before this one (live, they preceded it);
        // the notes of a record the saved state already holds go out as that record's own work.
        if (_toResend.Count > 0) Notify(TakeOwed(seq - 1), ActorRefs.Nobody, 0);
        if (AlreadyApplied(seq))
        {
            Notify(TakeOwed(seq), replyTo, seq, watched);
            return;
        }
        var notes = apply();
        Changed(seq);
        Notify(notes, replyTo, seq, watched);
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

    private void Notify(List<(string CustomerId, CustomerEvent Note)> notes, IActorRef replyTo, long seq, bool watched = false)
    {
        var productId = EntityId;
        if (notes.Count == 0)
        {
            if (watched) CatalogUpdateWatch.Done(productId, seq);
            if (!replyTo.IsNobody()) replyTo.Tell(new ProductAck(productId, seq));
            return;
        }
        var owed = notes.Select(n => new LoggedCall(n.CustomerId, n.Note, null)).ToArray();
        foreach (var o in owed) _unconfirmed.TryAdd(o, (seq, 0));
        var byCustomer = notes.GroupBy(n => n.CustomerId).ToArray();
        var asks = byCustomer.Select(g =>
            _customers.Ask<EventsIngested>(new IngestEvents(g.Key, g.Select(n => n.Note).ToArray()), _askTimeout));
        var notified = byCustomer.Select(g => g.Key).ToArray();
        var log = SystemLog;
        if (watched) CatalogUpdateWatch.Stage(productId, seq, $"notifying {notified.Length} customers");
        var self = Self;
        var checkpointer = Checkpointer;
        // On the default scheduler, never the actor's: a catalog update notifies from inside RunTask, where a plain
        // ContinueWith would queue on this actor's task scheduler, and a product passivated before its customers answer
        // would take the continuation (and so the log's acknowledgement) down with it.
        Task.WhenAll(asks).ContinueWith(t =>
        {
            // Re-sent after a restart: the log still learns which customers changed; a failure waits for the next load.
            var resend = replyTo.IsNobody();
            if (watched) CatalogUpdateWatch.Done(productId, seq);
            // Canceled counts as failed: the log must hear back whatever became of the asks.
            if (t.IsCompletedSuccessfully)
            {
                // The log hears of the customers before this entity marks the notes confirmed: the pruning rule needs it.
                (resend ? checkpointer : replyTo).Tell(new ProductAck(productId, seq, notified));
                self.Tell(new NotificationsConfirmed(owed));
            }
            else if (!resend)
            {
                log.Warning(t.Exception, "Product {0}: not every customer confirmed its notification", productId);
                var cause = t.Exception?.GetBaseException() ?? new TaskCanceledException("notifying the customers was canceled");
                replyTo.Tell(ApplyFailed.Answer(seq, productId, cause));
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static readonly TimeSpan SlowRead = TimeSpan.FromSeconds(10);

    private sealed record NotificationsConfirmed(IReadOnlyList<LoggedCall> Notes);

    /// <summary>What the next save does to one customer's interest row: replace it (with <see cref="Base"/>, or delete it
    /// when that is null), or not, then apply <see cref="Steps"/>.</summary>
    private sealed class PendingInterest
    {
        public bool Replaces { get; private init; }
        public Interest? Base { get; private init; }
        public List<InterestStep> Steps { get; private init; } = [];

        public static PendingInterest Replace(Interest? value) => new() { Replaces = true, Base = value };

        /// <summary>The row's value after this, given its stored value (changed in place: callers pass one just read);
        /// null when there is none. <see cref="Base"/> is left as it is: a failed save may need it again.</summary>
        public Interest? ApplyTo(Interest? stored)
        {
            var start = Replaces ? Base?.Copy() : stored;
            return start is null && Steps.Count == 0 ? null : ProductCatalog.Apply(start, Steps);
        }

        /// <summary>This, then <paramref name="later"/>.</summary>
        public PendingInterest Then(PendingInterest later) => later.Replaces
            ? later
            : new PendingInterest { Replaces = Replaces, Base = Base, Steps = [.. Steps, .. later.Steps] };
    }

    public static Props Props(string productId, IJourneyRules rules, StateBatcher store, IActorRef checkpointer,
        IActorRef customers, TimeSpan askTimeout, ResidencyLimit? residency = null) =>
        EntityProducer<ProductEntity>.Props(() => new ProductEntity(productId, rules, store, checkpointer, customers, askTimeout,
            residency));
}
