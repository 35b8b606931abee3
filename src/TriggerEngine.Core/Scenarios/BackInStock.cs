using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Scenarios;

/// <summary>
/// SPEC 3 <c>back_in_stock</c>: the product entity tells each customer who subscribed, or viewed while it
/// was out of stock, once per restock. Exit: bought it meanwhile (an order, or feedback
/// <c>already_purchased</c>, after the interest).
/// </summary>
public static class BackInStock
{
    public static void OnEvent(CustomerState s, Events.BackInStock b, List<Candidate> fired)
    {
        var m = s.Product(b.ProductId);
        if (m.LastOrderedAt is { } o && o >= b.InterestAt) return;
        if (m.Feedback == "already_purchased" && m.FeedbackAt >= b.InterestAt) return;
        fired.Add(new Candidate(ScenarioName.BackInStock, $"{b.ProductId}@{b.Timestamp.UtcTicks}", b.Timestamp,
            $"{b.ProductId}, which you were waiting for, is back in stock", b.Evidence,
            new Dictionary<string, object?>
            {
                ["product"] = new Dictionary<string, object?>
                {
                    ["product_id"] = b.ProductId, ["price"] = b.Price, ["category"] = b.Category,
                },
            }));
    }
}
