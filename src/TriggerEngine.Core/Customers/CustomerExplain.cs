using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;

namespace TriggerEngine.Core.Customers;

/// <summary>One scenario instance in progress, for the explain view.</summary>
public sealed record ActiveInstance(string Scenario, string Key, DateTimeOffset? DueAt, string State);

/// <summary>Cap usage as of an instant, for the explain view.</summary>
public sealed record CapUsage(string Cap, int Used, int Limit, string Window);

/// <summary>Answers "what is going on with this customer?" from the state: instances, due times, caps.</summary>
public static class CustomerExplain
{
    public static IReadOnlyList<ActiveInstance> ActiveInstances(CustomerState s, ScenarioRules r)
    {
        var list = new List<ActiveInstance>();
        foreach (var c in s.Carts.Values)
            list.Add(new(ScenarioName.AbandonedCart, c.CartId, AbandonedCart.DueAt(c, r.AbandonedCart),
                $"{c.Status.ToString().ToLowerInvariant()}, {c.ItemCount} item(s)"));
        foreach (var w in s.Browsing.Values.Where(w => w.Views.Count > 0))
            list.Add(new(ScenarioName.BrowseAbandonment, w.ProductId, BrowseAbandonment.DueAt(w, r.BrowseAbandonment),
                $"{w.Views.Count} view(s)"));
        if (s.Orders.Recent.Count > 0)
            list.Add(new(ScenarioName.ReorderDelay, s.Orders.Recent[^1].OrderId, ReorderDelay.NextDue(s, r.ReorderDelay),
                $"{s.Orders.Recent.Count} order(s)"));
        foreach (var f in s.Refills.Values.Where(f => !f.Fired))
            list.Add(new(ScenarioName.Replenishment, f.ProductId, Replenishment.DueAt(f, r.Replenishment),
                f.ConsumptionDays is null ? "not a consumable (no consumption_days)" : $"{f.Quantity} × {f.ConsumptionDays} d"));
        foreach (var c in s.Arbitration.Waiting)
            list.Add(new(c.Scenario, c.InstanceKey, s.Arbitration.WindowEndsAt, "fired, waiting for arbitration"));
        foreach (var d in s.Deferrals)
            list.Add(new(d.Candidate.Scenario, d.Candidate.InstanceKey, d.Until, "deferred by quiet hours"));
        return list;
    }

    public static IReadOnlyList<CapUsage> Caps(CustomerState s, ConsentRecord? consent, PolicyRules p, DateTimeOffset at)
    {
        var list = new List<CapUsage>
        {
            new("global", FrequencyCap.Count(s.Sends, at, p.Global.Per, _ => true), p.Global.Max, Durations.Describe(p.Global.Per)),
        };
        if (consent?.MaxPerWeek is { } own)
            list.Add(new("maxPerWeek", FrequencyCap.Count(s.Sends, at, TimeSpan.FromDays(7), _ => true), own, "7 d"));
        foreach (var (ch, cap) in p.PerChannel)
            list.Add(new(ch, FrequencyCap.Count(s.Sends, at, cap.Per, x => x.Channel == ch), cap.Max, Durations.Describe(cap.Per)));
        return list;
    }
}
