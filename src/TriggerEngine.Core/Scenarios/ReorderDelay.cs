using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Scenarios;

/// <summary>
/// SPEC 3 <c>reorder_delay</c>: with at least <c>minOrders</c> orders, fires when the time since the last
/// order exceeds the median of the gaps between them × <c>graceFactor</c>. Once per cycle (a new order
/// starts the next); the payload names the favourite category.
/// </summary>
public static class ReorderDelay
{
    public static void OnEvent(CustomerState s, OrderCompleted o)
    {
        var h = s.Orders;
        if (h.Recent.Any(x => x.OrderId == o.OrderId)) return;
        h.Recent.Add(new OrderMark(o.OrderId, o.Timestamp, o.MessageId));
        h.Recent.Sort((a, b) => a.At.CompareTo(b.At));
        if (h.Recent.Count > OrderHistory.Limit) h.Recent.RemoveAt(0);
        foreach (var line in o.Lines)
            if (line.Category is { } c) h.CategoryCounts[c] = h.CategoryCounts.GetValueOrDefault(c) + line.Quantity;
    }

    public static TimeSpan? UsualGap(OrderHistory h, ReorderDelayRules r)
    {
        if (h.Recent.Count < Math.Max(2, r.MinOrders)) return null;
        var gaps = new TimeSpan[h.Recent.Count - 1];
        for (var i = 0; i < gaps.Length; i++) gaps[i] = h.Recent[i + 1].At - h.Recent[i].At;
        Array.Sort(gaps);
        var mid = gaps.Length / 2;
        var median = gaps.Length % 2 == 1 ? gaps[mid] : (gaps[mid - 1] + gaps[mid]) / 2;
        return median > TimeSpan.Zero ? median : null;
    }

    public static DateTimeOffset? NextDue(CustomerState s, ReorderDelayRules r)
    {
        var h = s.Orders;
        if (h.Recent.Count == 0 || h.FiredForOrderId == h.Recent[^1].OrderId) return null;
        if (UsualGap(h, r) is not { } gap) return null;
        return h.Recent[^1].At + gap * r.GraceFactor;
    }

    public static void OnTime(CustomerState s, DateTimeOffset at, ReorderDelayRules r, List<Candidate> fired)
    {
        if (NextDue(s, r) is not { } due || due > at) return;
        var h = s.Orders;
        var last = h.Recent[^1];
        var gap = UsualGap(h, r)!.Value;
        var favourite = h.CategoryCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key).FirstOrDefault();
        h.FiredForOrderId = last.OrderId;
        fired.Add(new Candidate(ScenarioName.ReorderDelay, last.OrderId, due,
            $"You usually order every {Durations.Ago(gap)}; your last order was {Durations.Ago(due - last.At)} ago",
            h.Recent.Select(x => x.MessageId).ToArray(), new Dictionary<string, object?>
            {
                ["favourite_category"] = favourite,
                ["last_order_id"] = last.OrderId,
                ["usual_gap_days"] = Math.Round(gap.TotalDays, 2),
            }));
    }
}
