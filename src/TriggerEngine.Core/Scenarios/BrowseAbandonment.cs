using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Scenarios;

/// <summary>
/// SPEC 3 <c>browse_abandonment</c>: <c>minViews</c> views or <c>minDwell</c> total view time of one product
/// inside <c>window</c>, then <c>quietPeriod</c> with no view, add or order of it. Exits: added or ordered.
/// Once per product per <c>RepeatAfter</c> (30 d).
/// </summary>
public static class BrowseAbandonment
{
    private const int WatchLimit = 100;

    public static void OnEvent(CustomerState s, CustomerEvent e, BrowseAbandonmentRules r)
    {
        switch (e)
        {
            case ProductViewed v:
            {
                if (!s.Browsing.TryGetValue(v.ProductId, out var w))
                {
                    if (s.Browsing.Count >= WatchLimit) EvictOldest(s);
                    s.Browsing[v.ProductId] = w = new BrowseWatch(v.ProductId);
                }
                if (w.LastFiredAt is { } last && v.Timestamp < last + r.RepeatAfter) break;
                w.Views.Add(new ProductView(v.Timestamp, v.ViewDurationMs, v.MessageId));
                w.Views.Sort((a, b) => a.At.CompareTo(b.At));
                var newest = w.Views[^1].At;
                w.Views.RemoveAll(x => x.At <= newest - r.Window);
                w.Price = v.Price ?? w.Price;
                w.Category = v.Category ?? w.Category;
                break;
            }
            case ProductAdded a when s.Browsing.TryGetValue(a.ProductId, out var w):
                w.Views.Clear();
                break;
            case OrderCompleted o:
                foreach (var line in o.Lines)
                    if (s.Browsing.TryGetValue(line.ProductId, out var w)) w.Views.Clear();
                break;
        }
    }

    private static void EvictOldest(CustomerState s)
    {
        var oldest = s.Browsing.Values
            .OrderBy(w => w.Views.Count == 0 ? (w.LastFiredAt ?? DateTimeOffset.MinValue) : w.Views[^1].At).First();
        s.Browsing.Remove(oldest.ProductId);
    }

    public static bool ThresholdMet(BrowseWatch w, BrowseAbandonmentRules r)
    {
        if (w.Views.Count == 0) return false;
        if (w.Views.Count >= r.MinViews) return true;
        long dwellMs = 0;
        foreach (var v in w.Views) dwellMs += v.DurationMs ?? 0;
        return TimeSpan.FromMilliseconds(dwellMs) >= r.MinDwell;
    }

    public static DateTimeOffset? DueAt(BrowseWatch w, BrowseAbandonmentRules r) =>
        ThresholdMet(w, r) ? w.Views[^1].At + r.QuietPeriod : null;

    public static DateTimeOffset? NextDue(CustomerState s, BrowseAbandonmentRules r)
    {
        DateTimeOffset? next = null;
        foreach (var w in s.Browsing.Values) next = Due.Earlier(next, DueAt(w, r));
        return next;
    }

    public static void OnTime(CustomerState s, DateTimeOffset at, BrowseAbandonmentRules r, List<Candidate> fired)
    {
        if (NextDue(s, r) is not { } first || first > at) return;
        foreach (var w in s.Browsing.Values.OrderBy(w => w.ProductId, StringComparer.Ordinal))
        {
            if (DueAt(w, r) is not { } due || due > at) continue;
            var dwell = TimeSpan.FromMilliseconds(w.Views.Sum(v => v.DurationMs ?? 0));
            var reason = w.Views.Count >= r.MinViews
                ? $"You viewed {w.ProductId} {w.Views.Count} times and did not add it to your cart"
                : $"You spent {Durations.Ago(dwell)} looking at {w.ProductId} and did not add it to your cart";
            fired.Add(new Candidate(ScenarioName.BrowseAbandonment, w.ProductId, due, reason,
                w.Views.Select(v => v.MessageId).ToArray(), new Dictionary<string, object?>
                {
                    ["product"] = new Dictionary<string, object?>
                    {
                        ["product_id"] = w.ProductId, ["price"] = w.Price, ["category"] = w.Category,
                    },
                    ["views"] = w.Views.Count,
                }));
            w.LastFiredAt = due;
            w.Views.Clear();
        }
    }
}
