using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Scenarios;

/// <summary>
/// SPEC 3 <c>price_drop</c>: the catalog price fell at least <c>minDropPct</c> below the lowest price this
/// customer saw, within <c>lookback</c> of the interest. Exits: bought it, or feedback
/// <c>already_purchased</c>/<c>not_interested</c>, after the interest. Once per product per price level:
/// after a notification, only a price below the one notified fires again.
/// </summary>
public static class PriceDrop
{
    public static void OnEvent(CustomerState s, PriceDropped p, PriceDropRules r, List<Candidate> fired)
    {
        var m = s.Product(p.ProductId);
        if (Exited(m, p.InterestAt)) return;
        if (p.Timestamp - p.InterestAt > r.Lookback) return;
        if (p.LowestSeenPrice <= 0) return;
        var dropPct = (p.LowestSeenPrice - p.NewPrice) / p.LowestSeenPrice * 100m;
        if (dropPct < r.MinDropPct) return;
        if (m.LastNotifiedPrice is { } notified && p.NewPrice >= notified) return;
        m.LastNotifiedPrice = p.NewPrice;
        fired.Add(new Candidate(ScenarioName.PriceDrop, $"{p.ProductId}@{p.NewPrice}", p.Timestamp,
            $"The price of {p.ProductId} dropped {dropPct:0.#}% from {p.LowestSeenPrice:0.00} to {p.NewPrice:0.00} since you looked at it",
            p.Evidence, new Dictionary<string, object?>
            {
                ["product"] = new Dictionary<string, object?>
                {
                    ["product_id"] = p.ProductId, ["old_price"] = p.LowestSeenPrice, ["price"] = p.NewPrice,
                    ["drop_pct"] = Math.Round(dropPct, 2), ["category"] = p.Category,
                },
            }));
    }

    /// <summary>Bought it, or said so or said "not interested", after the interest began.</summary>
    public static bool Exited(ProductMemory m, DateTimeOffset interestAt) =>
        (m.LastOrderedAt is { } o && o >= interestAt) || (m.FeedbackAt is { } f && f >= interestAt);
}
