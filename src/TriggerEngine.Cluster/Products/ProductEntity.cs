using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Products;

/// <summary>
/// One catalog product, sharded. Remembers who showed interest (through <see cref="ProductCatalog"/>), and
/// turns a price drop or restock into notifications to exactly those customers. It replies only once
/// every notified customer has made the notification durable, so a <c>200</c> on the catalog feed means
/// the consequences are in the customers' journals.
/// </summary>
public sealed class ProductEntity : ReceivePersistentActor
{
    private readonly ProductState _state;
    private readonly IJourneyRules _rules;
    private readonly IActorRef _customers;
    private readonly TimeSpan _askTimeout;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public override string PersistenceId { get; }

    public ProductEntity(string productId, IJourneyRules rules, IActorRef customers, TimeSpan askTimeout)
    {
        PersistenceId = "product-" + productId;
        _state = new ProductState(productId);
        _rules = rules;
        _customers = customers;
        _askTimeout = askTimeout;

        Recover<InterestRecorded>(e => ProductCatalog.OnInterest(_state, e.Interest));
        Recover<CatalogUpdated>(e => ProductCatalog.OnUpdate(_state, e.Update, _rules.Scenarios.PriceDrop.Lookback));
        Recover<InterestsMerged>(e => ProductCatalog.MergeInterest(_state, e.From, e.To));

        Command<RecordInterests>(cmd =>
        {
            var sender = Sender;
            var events = cmd.Interests.Select(i => new InterestRecorded(i)).ToArray();
            var facts = new List<(string CustomerId, CustomerEvent Note)>();
            var done = 0;
            PersistAll(events, e =>
            {
                // Replenishment needs consumption_days from the catalog when the order line has none.
                if (ProductCatalog.OnInterest(_state, e.Interest) is { } f && e.Interest.Kind == InterestKind.Ordered)
                    facts.Add((e.Interest.CustomerId, f));
                if (++done == events.Length) Notify(facts, sender);
            });
        });
        Command<MergeInterests>(cmd =>
        {
            var sender = Sender;
            Persist(new InterestsMerged(cmd.From, cmd.To), e =>
            {
                ProductCatalog.MergeInterest(_state, e.From, e.To);
                sender.Tell(new ProductAck(_state.ProductId, 0));
            });
        });
        Command<UpdateCatalog>(cmd =>
        {
            var sender = Sender;
            var events = cmd.Updates.Select(u => new CatalogUpdated(u)).ToArray();
            var notes = new List<(string CustomerId, CustomerEvent Note)>();
            var done = 0;
            PersistAll(events, e =>
            {
                notes.AddRange(ProductCatalog.OnUpdate(_state, e.Update, _rules.Scenarios.PriceDrop.Lookback));
                if (++done == events.Length) Notify(notes, sender);
            });
        });
    }

    private void Notify(List<(string CustomerId, CustomerEvent Note)> notes, IActorRef replyTo)
    {
        var productId = _state.ProductId;
        if (notes.Count == 0)
        {
            replyTo.Tell(new ProductAck(productId, 0));
            return;
        }
        var asks = notes.GroupBy(n => n.CustomerId)
            .Select(g => _customers.Ask<EventsIngested>(new IngestEvents(g.Key, g.Select(n => n.Note).ToArray()), _askTimeout));
        Task.WhenAll(asks).PipeTo(replyTo,
            success: _ => new ProductAck(productId, notes.Count),
            failure: ex =>
            {
                _log.Warning(ex, "Product {0}: not every customer confirmed its notification", productId);
                return new Status.Failure(ex);
            });
    }

    public static Props Props(string productId, IJourneyRules rules, IActorRef customers, TimeSpan askTimeout) =>
        Akka.Actor.Props.Create(() => new ProductEntity(productId, rules, customers, askTimeout));
}
