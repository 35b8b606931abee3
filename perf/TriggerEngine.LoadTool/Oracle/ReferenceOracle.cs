namespace TriggerEngine.LoadTool.Oracle;

/// <summary>
/// A deliberately simple reference implementation of SPEC sections 3-4 (plus README "Choices where SPEC is
/// silent"), written without looking at the engine. Feed it consent records, then calls and catalog updates
/// in replay order, then <see cref="Finish"/>. Timers are evaluated lazily: a customer's timers due strictly
/// before an event's timestamp fire before the event is applied, and everything due by the final watermark
/// fires at the end. Because the replay keeps every timestamp above the watermark (late calls are at most
/// 30 s late, lateness is 1 min), this gives the same decisions as firing on the watermark.
/// </summary>
internal sealed partial class ReferenceOracle(OracleSettings? settings = null)
{
    public OracleSettings S { get; } = settings ?? new OracleSettings();

    private readonly Dictionary<string, Customer> _customers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _anonToUser = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ConsentRecord> _consent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Product> _catalog = new(StringComparer.Ordinal);

    /// <summary>Final decision records, and at the end the ones still deferred (outcome "deferred").</summary>
    public List<DecisionRecord> Decisions { get; } = new();

    /// <summary>Every deferred record written (one per deferral).</summary>
    public List<DecisionRecord> Deferrals { get; } = new();

    public void PutConsent(string customerId, ConsentRecord record)
    {
        if (_consent.TryGetValue(customerId, out var old) && old.UpdatedAt is { } o && record.UpdatedAt is { } n && n < o) return;
        _consent[customerId] = record;
    }

    // ---------------------------------------------------------------- calls

    public void Apply(Call call)
    {
        if (call.UserId is { } user)
        {
            if (call.Type == "identify" && call.AnonymousId is { } anon && !_anonToUser.ContainsKey(anon))
                Merge(anon, user, call.Ts);
            ApplyTo(Get(user), call);
        }
        else if (call.AnonymousId is { } anon)
        {
            ApplyTo(_anonToUser.TryGetValue(anon, out var u) ? Get(u) : Get("anon:" + anon), call);
        }
    }

    private Customer Get(string id)
    {
        if (!_customers.TryGetValue(id, out var c)) _customers[id] = c = new Customer(id);
        return c;
    }

    /// <summary>identify with both ids: the anonymous profile's events are handed to the customer, in time order.</summary>
    private void Merge(string anon, string user, DateTime at)
    {
        _anonToUser[anon] = user;
        if (!_customers.TryGetValue("anon:" + anon, out var a)) return;
        Advance(a, at, inclusive: false);
        foreach (var p in _catalog.Values) { p.PriceInterest.Remove(a.Id); p.Waiters.Remove(a.Id); }
        var u = Get(user);
        foreach (var e in a.Applied.OrderBy(e => e.Ts)) ApplyTo(u, e);
    }

    private void ApplyTo(Customer c, Call e)
    {
        if (!c.Seen.Add(e.MessageId)) return; // dedup by messageId
        Advance(c, e.Ts, inclusive: false);   // timers due strictly before the event fire first
        if (c.Id.StartsWith("anon:", StringComparison.Ordinal)) c.Applied.Add(e);
        if (e.Timezone is { } tz) c.TimeZone = tz;

        bool isView = (e.Type == "track" && e.Event == "Product Viewed") || (e.Type is "page" or "screen" && e.ProductId is not null);
        if (isView) { if (e.ProductId is { } vp) OnView(c, vp, e); return; }
        if (e.Type != "track") return;
        switch (e.Event)
        {
            case "Product Added": OnCartChange(c, e, +1); break;
            case "Product Removed": OnCartChange(c, e, -1); break;
            case "Order Completed": OnOrder(c, e); break;
            case "Product Subscribed": if (e.ProductId is { } sp) OnSubscribe(c, sp, e); break;
            case "Trigger Feedback":
                if (e.ProductId is { } fp && e.Feedback is "already_purchased" or "not_interested") ExitPriceInterest(c, fp, e.Ts);
                // "already_purchased" says the customer bought it: back in stock's "bought it meanwhile" (README).
                if (e.ProductId is { } bp && e.Feedback == "already_purchased"
                    && c.Waiting.TryGetValue(bp, out var waitingSince) && waitingSince <= e.Ts)
                {
                    c.Waiting.Remove(bp);
                    if (_catalog.TryGetValue(bp, out var fp2)) fp2.Waiters.Remove(c.Id);
                }
                break;
            case "Message Sent": c.External.Add((e.Ts, e.Channel ?? "unknown")); break;
            case "Signed Up" or "Newsletter Subscribed":
                if (!c.Welcomed) { c.Welcomed = true; Fire(c, "welcome", e.Ts); }
                break;
        }
    }

    private void OnView(Customer c, string pid, Call e)
    {
        // browse abandonment
        var b = c.Browse.TryGetValue(pid, out var bs) ? bs : c.Browse[pid] = new BrowseState();
        if (b.FiredAt is not { } f || e.Ts >= f + S.BrowseRepeatAfter)
        {
            b.Views.Add((e.Ts, e.ViewDurationMs ?? 0));
            var last = b.Views.Max(v => v.Ts);
            b.Views.RemoveAll(v => v.Ts < last - S.BrowseWindow);
            bool armed = b.Views.Count >= S.BrowseMinViews || b.Views.Sum(v => v.DurMs) >= S.BrowseMinDwell.TotalMilliseconds;
            b.Due = armed ? last + S.BrowseQuietPeriod : null;
        }
        AddPriceInterest(c, pid, e.Ts, e.Price);
        if (_catalog.TryGetValue(pid, out var p) && p.InStock == false) AddWaiter(c, pid, e.Ts);
    }

    private void OnSubscribe(Customer c, string pid, Call e)
    {
        AddPriceInterest(c, pid, e.Ts, e.Price);
        AddWaiter(c, pid, e.Ts);
    }

    private void OnCartChange(Customer c, Call e, int sign)
    {
        var cartId = e.CartId ?? "default";
        var cart = c.Carts.TryGetValue(cartId, out var k) ? k : c.Carts[cartId] = new Cart();
        var pid = e.ProductId ?? "";
        int qty = e.Quantity ?? 1;
        cart.Items.TryGetValue(pid, out var have);
        have += sign * qty;
        if (have > 0) cart.Items[pid] = have; else cart.Items.Remove(pid);
        cart.LastChange = e.Ts;
        if (sign > 0 && e.ProductId is not null)
        {
            ExitBrowse(c, pid);
            AddPriceInterest(c, pid, e.Ts, e.Price);
        }
    }

    private void OnOrder(Customer c, Call e)
    {
        if (e.CartId is { } cartId) c.Carts.Remove(cartId); else c.Carts.Clear();
        foreach (var line in e.Products)
        {
            ExitBrowse(c, line.ProductId);
            ExitPriceInterest(c, line.ProductId, e.Ts);
            if (c.Waiting.TryGetValue(line.ProductId, out var since) && since <= e.Ts)
            {
                c.Waiting.Remove(line.ProductId);
                if (_catalog.TryGetValue(line.ProductId, out var wp)) wp.Waiters.Remove(c.Id);
            }
            _catalog.TryGetValue(line.ProductId, out var cp);
            var days = line.ConsumptionDays ?? cp?.ConsumptionDays;
            if (days is { } d && d > 0)
            {
                var due = e.Ts + TimeSpan.FromDays(d * line.Quantity);
                if ((line.PackSize ?? cp?.PackSize) == "XL") due += S.XlExtraDays;
                c.Replenish[line.ProductId] = due;
            }
            else c.Replenish.Remove(line.ProductId);
        }
        c.Orders.Add(e.Ts);
        c.Orders.Sort();
        c.ReorderDue = null;
        if (c.Orders.Count >= S.ReorderMinOrders)
        {
            var gaps = new List<long>();
            for (int i = Math.Max(1, c.Orders.Count - S.ReorderOrdersKept + 1); i < c.Orders.Count; i++) gaps.Add((c.Orders[i] - c.Orders[i - 1]).Ticks);
            gaps.Sort();
            long median = gaps.Count % 2 == 1 ? gaps[gaps.Count / 2] : (gaps[gaps.Count / 2 - 1] + gaps[gaps.Count / 2]) / 2;
            c.ReorderDue = c.Orders[^1] + TimeSpan.FromTicks((long)(median * S.ReorderGraceFactor));
        }
    }

    private static void ExitBrowse(Customer c, string pid)
    {
        if (c.Browse.TryGetValue(pid, out var b)) { b.Views.Clear(); b.Due = null; }
    }

    private void AddPriceInterest(Customer c, string pid, DateTime ts, decimal? eventPrice)
    {
        var price = eventPrice ?? (_catalog.TryGetValue(pid, out var p) ? p.Price : null);
        var st = c.PriceInterest.TryGetValue(pid, out var s) ? s : c.PriceInterest[pid] = new PriceInterest();
        st.Seen.Add((ts, price));
        (_catalog.TryGetValue(pid, out var cp) ? cp : _catalog[pid] = new Product()).PriceInterest.Add(c.Id);
    }

    private static void ExitPriceInterest(Customer c, string pid, DateTime at)
    {
        // The interest ends; the prices seen stay what the customer saw (the lowest one is over the whole lookback).
        if (c.PriceInterest.TryGetValue(pid, out var st) && (st.ExitedAt is null || at > st.ExitedAt)) st.ExitedAt = at;
    }

    private void AddWaiter(Customer c, string pid, DateTime ts)
    {
        if (!c.Waiting.ContainsKey(pid)) c.Waiting[pid] = ts;
        (_catalog.TryGetValue(pid, out var cp) ? cp : _catalog[pid] = new Product()).Waiters.Add(c.Id);
    }

    // ---------------------------------------------------------------- catalog

    public void ApplyCatalog(ProductUpdate u)
    {
        var p = _catalog.TryGetValue(u.ProductId, out var x) ? x : _catalog[u.ProductId] = new Product();
        bool drop = false, restock = false;
        if (u.Price is { } np) { drop = p.Price is { } op && np < op; p.Price = np; }
        if (u.InStock is { } ns) { restock = p.InStock == false && ns; p.InStock = ns; }
        if (u.Category is not null) p.Category = u.Category;
        if (u.PackSize is not null) p.PackSize = u.PackSize;
        if (u.ConsumptionDays is not null) p.ConsumptionDays = u.ConsumptionDays;

        if (drop)
        {
            var price = p.Price!.Value;
            foreach (var id in p.PriceInterest.Select(Resolve).Distinct().Order(StringComparer.Ordinal).ToList())
            {
                var c = Get(id);
                if (!c.PriceInterest.TryGetValue(u.ProductId, out var st)) continue;
                var inLookback = st.Seen.Where(s => s.Ts >= u.Ts - S.PriceLookback).ToList();
                if (!inLookback.Any(s => st.ExitedAt is not { } x || s.Ts > x)) continue; // no interest since the last exit
                var seen = inLookback.Select(s => s.Price).OfType<decimal>().ToList();
                if (seen.Count == 0) continue;
                if (price > seen.Min() * (1 - S.PriceMinDropPct / 100m)) continue;
                if (st.LastNotified is { } ln && price >= ln) continue;
                st.LastNotified = price;
                Advance(c, u.Ts, inclusive: false);
                Fire(c, "price_drop", u.Ts);
            }
        }
        if (restock)
        {
            foreach (var id in p.Waiters.Select(Resolve).Distinct().Order(StringComparer.Ordinal).ToList())
            {
                var c = Get(id);
                if (!c.Waiting.Remove(u.ProductId)) continue;
                Advance(c, u.Ts, inclusive: false);
                Fire(c, "back_in_stock", u.Ts);
            }
            p.Waiters.Clear();
        }
    }

    private string Resolve(string id) =>
        id.StartsWith("anon:", StringComparison.Ordinal) && _anonToUser.TryGetValue(id[5..], out var u) ? u : id;

    /// <summary>End of replay: the final watermark; every timer due by then fires (inclusive).</summary>
    public void Finish(DateTime finalWatermark)
    {
        foreach (var c in _customers.Values.OrderBy(c => c.Id, StringComparer.Ordinal))
        {
            if (c.Id.StartsWith("anon:", StringComparison.Ordinal) && _anonToUser.ContainsKey(c.Id[5..])) continue;
            Advance(c, finalWatermark, inclusive: true);
            foreach (var d in c.Deferred) Decisions.Add(d.Record);
        }
    }
}
