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
    private readonly IJourneyRules _rules;
    private readonly IActorRef _customers;
    private readonly TimeSpan _askTimeout;

    public ProductEntity(string productId, IJourneyRules rules, StateBatcher store, IActorRef checkpointer,
        IActorRef customers, TimeSpan askTimeout)
        : base(EntityKind.Product, productId, store, checkpointer)
    {
        _state = new ProductState(productId);
        _rules = rules;
        _customers = customers;
        _askTimeout = askTimeout;
    }

    protected override void Restore(ReadOnlyMemory<byte> state) => _state = StateCodec.DecodeProduct(EntityId, state);
    protected override byte[] Encode() => StateCodec.EncodeProduct(_state);
    protected override DateTimeOffset? IndexedDue() => null;

    protected override void Active()
    {
        Receive<RecordInterests>(cmd =>
        {
            if (AlreadyApplied(cmd.Seq))
            {
                Sender.Tell(new ProductAck(EntityId, cmd.Seq));
                return;
            }
            var facts = new List<(string CustomerId, CustomerEvent Note)>();
            foreach (var interest in cmd.Interests)
                // Replenishment needs consumption_days from the catalog when the order line has none.
                if (ProductCatalog.OnInterest(_state, interest) is { } f && interest.Kind == InterestKind.Ordered)
                    facts.Add((interest.CustomerId, f));
            Changed(cmd.Seq);
            Notify(facts, Sender, cmd.Seq);
        });
        Receive<UpdateCatalog>(cmd =>
        {
            if (AlreadyApplied(cmd.Seq))
            {
                Sender.Tell(new ProductAck(EntityId, cmd.Seq));
                return;
            }
            var notes = new List<(string CustomerId, CustomerEvent Note)>();
            foreach (var update in cmd.Updates)
                notes.AddRange(ProductCatalog.OnUpdate(_state, update, _rules.Scenarios.PriceDrop.Lookback));
            Changed(cmd.Seq);
            Notify(notes, Sender, cmd.Seq);
        });
        Receive<ForgetCustomer>(cmd =>
        {
            if (ProductCatalog.Forget(_state, cmd.CustomerId)) ChangedOutsideLog();
            Sender.Tell(new ProductAck(EntityId));
        });
        Receive<MergeInterests>(cmd =>
        {
            ProductCatalog.MergeInterest(_state, cmd.From, cmd.To);
            ChangedOutsideLog();
            Sender.Tell(new ProductAck(EntityId));
        });
    }

    private void Changed(long seq)
    {
        if (seq > 0) ChangedByLog(seq);
        else ChangedOutsideLog();
    }

    private void Notify(List<(string CustomerId, CustomerEvent Note)> notes, IActorRef replyTo, long seq)
    {
        var productId = EntityId;
        if (notes.Count == 0)
        {
            replyTo.Tell(new ProductAck(productId, seq));
            return;
        }
        var byCustomer = notes.GroupBy(n => n.CustomerId).ToArray();
        var asks = byCustomer.Select(g =>
            _customers.Ask<EventsIngested>(new IngestEvents(g.Key, g.Select(n => n.Note).ToArray()), _askTimeout));
        var notified = byCustomer.Select(g => g.Key).ToArray();
        var log = Log;
        Task.WhenAll(asks).PipeTo(replyTo,
            success: _ => new ProductAck(productId, seq, notified),
            failure: ex =>
            {
                log.Warning(ex, "Product {0}: not every customer confirmed its notification", productId);
                return seq > 0 ? new ApplyFailed(seq, productId, ex.Message) : new Status.Failure(ex);
            });
    }

    public static Props Props(string productId, IJourneyRules rules, StateBatcher store, IActorRef checkpointer,
        IActorRef customers, TimeSpan askTimeout) =>
        Akka.Actor.Props.Create(() => new ProductEntity(productId, rules, store, checkpointer, customers, askTimeout));
}
