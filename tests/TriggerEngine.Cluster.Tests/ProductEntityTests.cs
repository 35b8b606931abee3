using Akka.Actor;
using Akka.TestKit;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Cluster.Products;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;

namespace TriggerEngine.Cluster.Tests;

/// <summary>
/// A product entity on a real SQLite state file, with test probes standing for the ingest log and the customer region,
/// so the test decides when the customers answer a notification.
/// </summary>
public sealed class ProductEntityTests() : EntityTestKit("product-entity")
{
    private static CatalogUpdate Price(decimal price, int minute) => new("sku-1", price, "EUR", true, null, null, null, T0.AddMinutes(minute));

    [Fact]
    public void Given_a_product_stopped_before_its_customers_confirm_a_price_drop_When_they_confirm_Then_the_log_still_hears_the_catalog_record_acknowledged()
    {
        var (log, customers) = (CreateTestProbe(), CreateTestProbe());
        var rules = new FixedJourneyRules(ScenarioRules.Default, PolicyRules.Default);
        var product = Sys.ActorOf(ProductEntity.Props("sku-1", rules, Batcher, log, customers, TimeSpan.FromSeconds(30)));
        product.Tell(new UpdateCatalog("sku-1", [Price(10m, 0)], 1), log);
        AckFor(log, 1);
        product.Tell(new RecordInterests("sku-1", [new InterestShown("u1", InterestKind.Viewed, "view-1", T0.AddMinutes(1), 10m)], 2), log);
        AckFor(log, 2);

        // The drop is applied after reading the product's interests (inside the actor's RunTask), then sent to u1.
        product.Tell(new UpdateCatalog("sku-1", [Price(8m, 2)], 3), log);
        var note = customers.ExpectMsg<IngestEvents>(TimeSpan.FromSeconds(10));
        var asker = customers.LastSender;
        Assert.IsType<PriceDropped>(Assert.Single(note.Events));

        // Passivated (the residency limit, idle) before u1 answers: the answer must still reach the log.
        Watch(product);
        product.Tell(StopEntity.Instance);
        ExpectTerminated(product, TimeSpan.FromSeconds(10));
        asker.Tell(new EventsIngested("u1", 1, 0));

        var ack = AckFor(log, 3);
        Assert.Equal(["u1"], ack.Notified);
    }

    private static ProductAck AckFor(TestProbe log, long seq) =>
        log.FishForMessage<ProductAck>(a => a.Seq == seq, TimeSpan.FromSeconds(10));
}
