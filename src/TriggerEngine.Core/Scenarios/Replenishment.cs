using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Scenarios;

/// <summary>
/// SPEC 3 <c>replenishment</c>: an order of a consumable (a product with <c>consumption_days</c>, from the order
/// line or the catalog) fires <c>consumption_days</c> × quantity later (+ <c>xlExtraDays</c> for pack size XL).
/// Exit: a reorder of that product, which starts the next cycle.
/// </summary>
public static class Replenishment
{
    public static void OnEvent(CustomerState s, CustomerEvent e)
    {
        switch (e)
        {
            case OrderCompleted o:
                foreach (var line in o.Lines)
                {
                    if (s.Refills.TryGetValue(line.ProductId, out var existing) && existing.OrderedAt > o.Timestamp)
                        continue;
                    var m = s.Product(line.ProductId);
                    s.Refills[line.ProductId] = new Refill(line.ProductId)
                    {
                        OrderedAt = o.Timestamp,
                        Quantity = Math.Max(1, line.Quantity),
                        ConsumptionDays = line.ConsumptionDays ?? m.ConsumptionDays,
                        PackSize = line.PackSize ?? m.PackSize,
                        MessageId = o.MessageId,
                    };
                }
                break;
            case ProductFacts f when s.Refills.TryGetValue(f.ProductId, out var refill):
                refill.ConsumptionDays ??= f.ConsumptionDays;
                refill.PackSize ??= f.PackSize;
                break;
        }
    }

    public static DateTimeOffset? DueAt(Refill f, ReplenishmentRules r)
    {
        if (f.Fired || f.ConsumptionDays is not { } days || days <= 0) return null;
        var extra = string.Equals(f.PackSize, "XL", StringComparison.OrdinalIgnoreCase) ? r.XlExtraDays : TimeSpan.Zero;
        return f.OrderedAt + TimeSpan.FromDays(days * f.Quantity) + extra;
    }

    public static DateTimeOffset? NextDue(CustomerState s, ReplenishmentRules r)
    {
        DateTimeOffset? next = null;
        foreach (var f in s.Refills.Values) next = Due.Earlier(next, DueAt(f, r));
        return next;
    }

    public static void OnTime(CustomerState s, DateTimeOffset at, ReplenishmentRules r, List<Candidate> fired)
    {
        if (NextDue(s, r) is not { } first || first > at) return;
        foreach (var f in s.Refills.Values.OrderBy(f => f.ProductId, StringComparer.Ordinal))
        {
            if (DueAt(f, r) is not { } due || due > at) continue;
            f.Fired = true;
            fired.Add(new Candidate(ScenarioName.Replenishment, $"{f.ProductId}@{f.OrderedAt.UtcTicks}", due,
                $"The {f.Quantity} × {f.ProductId} you ordered {Durations.Ago(due - f.OrderedAt)} ago should be running out",
                [f.MessageId], new Dictionary<string, object?>
                {
                    ["product"] = new Dictionary<string, object?>
                    {
                        ["product_id"] = f.ProductId, ["quantity"] = f.Quantity,
                        ["consumption_days"] = f.ConsumptionDays, ["pack_size"] = f.PackSize,
                    },
                    ["ordered_at"] = f.OrderedAt,
                }));
        }
    }
}
