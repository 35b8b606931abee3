using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Catalog;

/// <summary>Which customer events show interest in which products (what the product entities are told).</summary>
public static class ProductInterests
{
    public static IEnumerable<(string ProductId, InterestShown Interest)> Of(string customerId, CustomerEvent e) => e switch
    {
        ProductViewed v => [(v.ProductId, new InterestShown(customerId, InterestKind.Viewed, v.MessageId, v.Timestamp, v.Price))],
        ProductAdded a => [(a.ProductId, new InterestShown(customerId, InterestKind.Added, a.MessageId, a.Timestamp, a.Price))],
        ProductSubscribed s => [(s.ProductId, new InterestShown(customerId, InterestKind.Subscribed, s.MessageId, s.Timestamp, null))],
        OrderCompleted o => o.Lines.Select(l =>
            (l.ProductId, new InterestShown(customerId, InterestKind.Ordered, o.MessageId, o.Timestamp, l.Price))),
        _ => [],
    };
}
