using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Catalog;

/// <summary>
/// The product side of price drop, back in stock and replenishment: it records which customers showed
/// interest (and the lowest price each saw), and turns a catalog update into the notifications each of
/// those customers must get. The customer side decides whether to fire (exits, thresholds).
/// </summary>
public static class ProductCatalog
{
    /// <summary>A customer viewed, carted, subscribed to or ordered the product. Returns the catalog facts
    /// to hand back to that customer (replenishment needs <c>consumption_days</c>).</summary>
    public static ProductFacts? OnInterest(ProductState p, InterestShown i)
    {
        if (!p.Interests.TryGetValue(i.CustomerId, out var interest)) p.Interests[i.CustomerId] = interest = new Interest();
        // A replayed messageId (the customer ignores it) shows nothing new here either.
        if (StepOf(p, i) is { } step && !Apply(interest, step)) return null;
        return FactsFor(p, i);
    }

    /// <summary>What an interest event adds to the customer's interest, resolved against the product as it is now (its
    /// price and stock), so that it can be applied later to the interest as stored (<see cref="Apply"/>). None for an
    /// order: it changes no interest.</summary>
    public static InterestStep? StepOf(ProductState p, InterestShown i) => i.Kind == InterestKind.Ordered
        ? null
        : new InterestStep(i.MessageId, i.Timestamp, i.Price ?? p.Price,
            i.Kind == InterestKind.Subscribed || (i.Kind == InterestKind.Viewed && p.InStock == false));

    /// <summary>Applies one step; false for a messageId the interest already holds (a replayed call).</summary>
    public static bool Apply(Interest interest, InterestStep step)
    {
        if (interest.Evidence.Contains(step.MessageId) || interest.WaitingEvidence.Contains(step.MessageId)) return false;
        if (step.At > interest.LastAt) interest.LastAt = step.At;
        if (step.SeenPrice is { } price && (interest.LowestSeenPrice is null || price < interest.LowestSeenPrice))
            interest.LowestSeenPrice = price;
        AddBounded(interest.Evidence, step.MessageId);
        if (step.Waits)
        {
            // The latest interest counts: a purchase before it does not end the wait (SPEC: "bought it meanwhile").
            if (interest.WaitingSince is not { } since || step.At > since) interest.WaitingSince = step.At;
            AddBounded(interest.WaitingEvidence, step.MessageId);
        }
        return true;
    }

    /// <summary>Applies <paramref name="steps"/> in order to <paramref name="interest"/> (a new one when null) and returns it.</summary>
    public static Interest Apply(Interest? interest, IEnumerable<InterestStep> steps)
    {
        interest ??= new Interest();
        foreach (var step in steps) Apply(interest, step);
        return interest;
    }

    /// <summary>The catalog facts a customer gets back for an interest event, if the product has any.</summary>
    public static ProductFacts? FactsFor(ProductState p, InterestShown i) =>
        p.ConsumptionDays is null && p.PackSize is null && p.Category is null
            ? null
            : new ProductFacts($"facts:{p.ProductId}:{i.MessageId}", i.Timestamp, p.ProductId, p.ConsumptionDays,
                p.PackSize, p.Category);

    /// <summary>
    /// identify merged the anonymous profile <paramref name="from"/> into <paramref name="to"/>: its interest
    /// becomes the customer's (the lowest price either saw, the evidence of both), so one customer gets one
    /// notification.
    /// </summary>
    public static void MergeInterest(ProductState p, string from, string to)
    {
        if (from == to || !p.Interests.Remove(from, out var anonymous)) return;
        if (!p.Interests.TryGetValue(to, out var known))
        {
            p.Interests[to] = anonymous;
            return;
        }
        if (anonymous.LastAt > known.LastAt) known.LastAt = anonymous.LastAt;
        if (anonymous.LowestSeenPrice is { } low && (known.LowestSeenPrice is null || low < known.LowestSeenPrice))
            known.LowestSeenPrice = low;
        foreach (var id in anonymous.Evidence) AddBounded(known.Evidence, id);
        if (anonymous.WaitingSince is { } since && (known.WaitingSince is null || since > known.WaitingSince))
            known.WaitingSince = since;
        foreach (var id in anonymous.WaitingEvidence) AddBounded(known.WaitingEvidence, id);
    }

    /// <summary>Applies a catalog update; returns, per customer, the notification it triggers.</summary>
    public static IReadOnlyList<(string CustomerId, CustomerEvent Notification)> OnUpdate(ProductState p, CatalogUpdate u,
        TimeSpan lookback)
    {
        var notes = new List<(string, CustomerEvent)>();
        var oldPrice = p.Price;
        var wasInStock = p.InStock;
        p.Exists = true;
        p.Price = u.Price ?? p.Price;
        p.Currency = u.Currency ?? p.Currency;
        p.InStock = u.InStock ?? p.InStock;
        p.Category = u.Category ?? p.Category;
        p.PackSize = u.PackSize ?? p.PackSize;
        p.ConsumptionDays = u.ConsumptionDays ?? p.ConsumptionDays;
        p.UpdatedAt = u.Timestamp;

        foreach (var (cid, i) in p.Interests.Where(kv => kv.Value.LastAt < u.Timestamp - lookback && kv.Value.WaitingSince is null).ToArray())
            p.Interests.Remove(cid);

        if (u.Price is { } newPrice && oldPrice is { } before && newPrice < before)
        {
            foreach (var (cid, i) in p.Interests.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (i.LowestSeenPrice is not { } lowest || i.Evidence.Count == 0) continue;
                if (u.Timestamp - i.LastAt > lookback) continue;
                notes.Add((cid, new PriceDropped($"price:{p.ProductId}:{newPrice}:{u.Timestamp.UtcTicks}", u.Timestamp,
                    p.ProductId, newPrice, lowest, i.LastAt, i.Evidence.ToArray(), p.Category)));
            }
        }
        if (wasInStock == false && p.InStock == true)
        {
            foreach (var (cid, i) in p.Interests.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (i.WaitingSince is not { } since) continue;
                notes.Add((cid, new BackInStock($"restock:{p.ProductId}:{u.Timestamp.UtcTicks}", u.Timestamp, p.ProductId,
                    since, i.WaitingEvidence.ToArray(), p.Price, p.Category)));
                i.WaitingSince = null;
                i.WaitingEvidence.Clear();
            }
        }
        return notes;
    }

    private static void AddBounded(List<string> list, string id)
    {
        if (list.Contains(id)) return;
        list.Add(id);
        if (list.Count > Interest.EvidenceLimit) list.RemoveAt(0);
    }
}
