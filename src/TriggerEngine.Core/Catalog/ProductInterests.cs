using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Catalog;

/// <summary>Which customer events show interest in which products (what the product entities are told).</summary>
public static class ProductInterests
{
    /// <summary>The products <see cref="Of"/> names for <paramref name="e"/>, added to <paramref name="into"/> without
    /// building the interests: the customer's own record of them, on every event.</summary>
    public static void AddProducts(CustomerEvent e, ISet<string> into)
    {
        switch (e)
        {
            case ProductViewed v: into.Add(v.ProductId); break;
            case ProductAdded a: into.Add(a.ProductId); break;
            case ProductSubscribed s: into.Add(s.ProductId); break;
            case OrderCompleted o:
                foreach (var l in o.Lines) into.Add(l.ProductId);
                break;
        }
    }

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
