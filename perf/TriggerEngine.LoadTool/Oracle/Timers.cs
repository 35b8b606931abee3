namespace TriggerEngine.LoadTool.Oracle;

internal sealed class Cart
{
    public Dictionary<string, int> Items { get; } = new(StringComparer.Ordinal);
    public DateTime LastChange;
    public bool Reminded;
}

internal sealed class BrowseState
{
    public List<(DateTime Ts, double DurMs)> Views { get; } = new();
    public DateTime? Due;
    public DateTime? FiredAt;
}

internal sealed class PriceInterest
{
    /// <summary>Interest events (view, cart add, subscription), with the price seen (event price, else catalog price).</summary>
    public List<(DateTime Ts, decimal? Price)> Seen { get; } = new();
    public decimal? LastNotified;
    /// <summary>The last purchase or feedback that ended the interest; only interest after it counts.</summary>
    public DateTime? ExitedAt;
}

internal sealed class Product
{
    public decimal? Price;
    public bool? InStock;
    public string? Category;
    public string? PackSize;
    public double? ConsumptionDays;
    public HashSet<string> PriceInterest { get; } = new(StringComparer.Ordinal);
    public HashSet<string> Waiters { get; } = new(StringComparer.Ordinal);
}

internal sealed record Trigger(string Scenario, DateTime FiredAt);

internal sealed class Window(DateTime openAt)
{
    public DateTime OpenAt { get; } = openAt;
    public List<Trigger> Candidates { get; } = new();
}

internal sealed record Deferral(Trigger Trigger, DateTime Until, DecisionRecord Record);

internal sealed class Customer(string id)
{
    public string Id { get; } = id;
    public HashSet<string> Seen { get; } = new(StringComparer.Ordinal);
    public List<Call> Applied { get; } = new(); // anonymous profiles only: handed over on merge
    public string? TimeZone;
    public Dictionary<string, Cart> Carts { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, BrowseState> Browse { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, PriceInterest> PriceInterest { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, DateTime> Waiting { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, DateTime> Replenish { get; } = new(StringComparer.Ordinal);
    public List<DateTime> Orders { get; } = new();
    public DateTime? ReorderDue;
    public bool Welcomed;
    public List<(DateTime At, string Channel, string Scenario)> Sends { get; } = new();
    public List<(DateTime At, string Channel)> External { get; } = new();
    public Window? Window;
    public List<Deferral> Deferred { get; } = new();
}

internal sealed partial class ReferenceOracle
{
    /// <summary>Fire every timer of <paramref name="c"/> due before <paramref name="limit"/> (or at it, when inclusive), in due order.</summary>
    private void Advance(Customer c, DateTime limit, bool inclusive)
    {
        while (true)
        {
            // kind 0: decisions (arbitration close, end of deferral) go before scenario timers at the same instant,
            // so a trigger firing exactly when a window closes opens a new one.
            (DateTime Due, int Kind, string Name, string Key)? next = null;
            void Consider(DateTime due, int kind, string name, string key)
            {
                if (inclusive ? due > limit : due >= limit) return;
                var cand = (due, kind, name, key);
                if (next is null || Compare(cand, next.Value) < 0) next = cand;
            }
            if (c.Window is { } w) Consider(w.OpenAt + S.ArbitrationWindow, 0, "~window", "");
            // Deferrals ending at the same instant are re-checked in the order they fired (first deferred, first served).
            for (int i = 0; i < c.Deferred.Count; i++)
                Consider(c.Deferred[i].Until, 0, "", c.Deferred[i].Trigger.FiredAt.Ticks.ToString("D20") + "/" + i.ToString("D6"));
            foreach (var (id, cart) in c.Carts)
                if (cart.Items.Count > 0 && !cart.Reminded) Consider(cart.LastChange + S.CartDelay, 1, "abandoned_cart", id);
            foreach (var (pid, b) in c.Browse)
                if (b.Due is { } bd) Consider(bd, 1, "browse_abandonment", pid);
            foreach (var (pid, due) in c.Replenish) Consider(due, 1, "replenishment", pid);
            if (c.ReorderDue is { } rd) Consider(rd, 1, "reorder_delay", "");
            if (next is not { } n) return;

            if (n.Kind == 0 && n.Name != "~window")
            {
                var d = c.Deferred[int.Parse(n.Key[(n.Key.IndexOf('/') + 1)..])];
                c.Deferred.Remove(d);
                Decide(c, d.Trigger, d.Until);
                continue;
            }
            switch (n.Name)
            {
                case "~window": CloseWindow(c); break;
                case "abandoned_cart": c.Carts[n.Key].Reminded = true; Fire(c, n.Name, n.Due); break;
                case "browse_abandonment":
                    var b = c.Browse[n.Key]; b.FiredAt = n.Due; b.Due = null; b.Views.Clear(); Fire(c, n.Name, n.Due); break;
                case "replenishment": c.Replenish.Remove(n.Key); Fire(c, n.Name, n.Due); break;
                case "reorder_delay": c.ReorderDue = null; Fire(c, n.Name, n.Due); break;
            }
        }
    }

    private static int Compare((DateTime Due, int Kind, string Name, string Key) a, (DateTime Due, int Kind, string Name, string Key) b)
    {
        int r = a.Due.CompareTo(b.Due);
        if (r == 0) r = a.Kind.CompareTo(b.Kind);
        if (r == 0) r = string.CompareOrdinal(a.Name, b.Name);
        if (r == 0) r = string.CompareOrdinal(a.Key, b.Key);
        return r;
    }

    /// <summary>A scenario fired: it joins the open arbitration window, or opens one.</summary>
    private void Fire(Customer c, string scenario, DateTime firedAt)
    {
        var t = new Trigger(scenario, firedAt);
        if (S.ArbitrationWindow <= TimeSpan.Zero) { Decide(c, t, firedAt); return; }
        // An old event's trigger whose own window ended before the open one began: decided alone (SPEC 6).
        if (c.Window is { } open && firedAt + S.ArbitrationWindow <= open.OpenAt) { Decide(c, t, firedAt + S.ArbitrationWindow); return; }
        if (c.Window is { } w && firedAt >= w.OpenAt + S.ArbitrationWindow) CloseWindow(c);
        c.Window ??= new Window(firedAt);
        c.Window.Candidates.Add(t);
    }

    private void CloseWindow(Customer c)
    {
        var w = c.Window!;
        c.Window = null;
        var at = w.OpenAt + S.ArbitrationWindow;
        var ranked = w.Candidates
            .OrderByDescending(t => S.Scenarios[t.Scenario].Priority)
            .ThenBy(t => t.FiredAt)
            .ThenBy(t => t.Scenario, StringComparer.Ordinal)
            .ToList();
        foreach (var loser in ranked.Skip(1))
            Decisions.Add(new DecisionRecord(c.Id, loser.Scenario, "suppressed", "lower_priority", null, loser.FiredAt, at));
        Decide(c, ranked[0], at);
    }
}
