using System.Buffers;
using System.Text;
using System.Text.Json;
using TriggerEngine.LoadTool.Oracle;

namespace TriggerEngine.LoadTool.Generator;

internal sealed record GenOptions(long Customers, int Days, ulong Seed, double DuplicateRate = 0.01, double LateRate = 0.01, double AnonymousRate = 0.1)
{
    public static readonly DateTime DefaultStart = new(2030, 1, 7, 0, 0, 0, DateTimeKind.Utc);
    public DateTime Start { get; init; } = DefaultStart;
    public DateTime End => Start.AddDays(Days);
}

/// <summary>One generated call, with the instant it arrives (its position in calls.ndjson).</summary>
internal sealed record GenCall(DateTime Ts, DateTime Arrival, long Person, int Seq, string Json);

/// <summary>
/// Generates one person's whole timeline (sessions, orders, messages from other systems) and consent record from
/// (seed, person index) alone, so any group of persons can be generated independently and merged.
/// </summary>
internal sealed class PersonGenerator(GenOptions o, CatalogPlan catalog)
{
    private static readonly string?[] Zones =
    [
        "Europe/Paris", "Europe/Paris", "Europe/London", "Europe/Berlin", "America/New_York", "America/New_York",
        "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney", "UTC", null,
    ];
    private static readonly double[] SessionRates = [0.05, 0.15, 0.3, 0.5, 0.8, 1.2, 2.0];
    private static readonly double[] Cadences = [1.2, 1.6, 2.0, 3.0, 5.0, 8.0, 14.0];
    private static readonly string[] Purposes = ["cart_reminders", "product_alerts", "promotions"];

    public static string UserId(long i) => $"u{i}";
    public static string AnonId(long i) => $"a{i}";

    private sealed class State
    {
        public required Rng Rng;
        public long I;
        public string? Tz;
        public bool Anonymous;       // current calls carry only anonymousId
        public bool Visitor;         // never identifies
        public bool IdentifyPending; // first session ends with identify
        public bool NewCustomer;
        public List<CatProduct> Considered = new();
        public List<CatProduct> Staples = new();
        public string[] Favourites = [];
        public string? CartId;
        public int CartSeq;
        public readonly Dictionary<string, (int Qty, decimal Price)> Cart = new();
        public readonly List<string> Viewed = new();
        public int OrderSeq, MsgSeq;
        public readonly List<(DateTime Ts, string Json, bool NoLate)> Calls = new();
    }

    /// <summary>The consent.ndjson line of person <paramref name="i"/>, or null (no record).</summary>
    public string? ConsentLine(long i)
    {
        var rng = new Rng(Rng.Mix(o.Seed, (ulong)i, 2));
        if (IsVisitor(i)) return null;
        double r = rng.Double();
        if (r < 0.15) return null;
        string[] channels = r switch
        {
            < 0.20 => ["email", "sms", "push"], // unsubscribedAll below
            < 0.45 => ["email"],
            < 0.55 => ["sms"],
            < 0.65 => ["email", "sms"],
            < 0.80 => ["email", "push"],
            _ => ["email", "sms", "push"],
        };
        var buf = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buf))
        {
            w.WriteStartObject();
            w.WriteString("customerId", UserId(i));
            w.WriteStartObject("record");
            w.WriteStartObject("channels");
            foreach (var ch in new[] { "email", "sms", "push" })
                if (channels.Contains(ch)) w.WriteBoolean(ch, true);
                else if (rng.Chance(0.5)) w.WriteBoolean(ch, false);
            w.WriteEndObject();
            w.WriteStartObject("purposes");
            foreach (var p in Purposes)
                if (rng.Chance(p == "cart_reminders" ? 0.85 : 0.75)) w.WriteBoolean(p, true);
                else if (rng.Chance(0.5)) w.WriteBoolean(p, false);
            w.WriteEndObject();
            if (rng.Chance(0.4)) w.WriteNumber("maxPerWeek", rng.Pick(new[] { 0, 1, 2, 2, 3, 5 }));
            w.WriteStartArray("optOutTopics");
            if (rng.Chance(0.2)) w.WriteStringValue("mothers_day");
            w.WriteEndArray();
            w.WriteBoolean("unsubscribedAll", r is >= 0.15 and < 0.20);
            w.WriteString("updatedAt", "2030-01-01T00:00:00Z");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buf.WrittenSpan);
    }

    private bool IsVisitor(long i)
    {
        var rng = new Rng(Rng.Mix(o.Seed, (ulong)i, 1));
        return rng.Double() < o.AnonymousRate && rng.Double() < 0.3;
    }

    public List<GenCall> Generate(long i)
    {
        var rng = new Rng(Rng.Mix(o.Seed, (ulong)i, 1));
        var s = new State { Rng = rng, I = i };
        bool anonymous = rng.Double() < o.AnonymousRate;
        s.Visitor = anonymous && rng.Double() < 0.3; // same draws as IsVisitor
        s.Anonymous = anonymous;
        s.IdentifyPending = anonymous && !s.Visitor;
        s.Tz = rng.Pick(Zones);
        s.NewCustomer = s.IdentifyPending ? rng.Chance(0.5) : rng.Chance(0.06);
        s.Favourites = [rng.Pick(CatalogPlan.Categories).Name, rng.Pick(CatalogPlan.Categories).Name];
        for (int k = rng.Int(3, 6); k > 0; k--) s.Considered.Add(rng.Pick(catalog.ByCategory[rng.Pick(s.Favourites)]));
        double rate = rng.Pick(SessionRates);
        var zone = s.Tz is null ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(s.Tz);

        // Plan sessions: (start, kind).
        var plan = new List<(DateTime At, string Kind)>();
        for (int d = 0; d <= o.Days; d++)
        {
            int n = rng.Poisson(rate);
            for (int k = 0; k < n; k++)
            {
                double hour = rng.Chance(0.9) ? rng.Range(8, 23) : rng.Range(0, 24);
                var local = DateTime.SpecifyKind(o.Start.Date.AddDays(d).AddHours(hour).AddMilliseconds(rng.Int(1000)), DateTimeKind.Unspecified);
                if (zone.IsInvalidTime(local)) local = local.AddHours(1);
                plan.Add((TimeZoneInfo.ConvertTimeToUtc(local, zone), "session"));
            }
        }
        if (!s.Visitor && rng.Chance(0.2))
        {
            var consumables = catalog.Products.Where(p => p.ConsumptionDays is not null && s.Favourites.Contains(p.Category.Name)).ToList();
            if (consumables.Count == 0) consumables = catalog.Products.Where(p => p.ConsumptionDays is not null).ToList();
            for (int k = rng.Int(1, 2); k > 0; k--) s.Staples.Add(rng.Pick(consumables));
            double cadence = rng.Pick(Cadences);
            for (var t = o.Start + TimeSpan.FromDays(rng.Range(0, cadence)); t < o.End; t += TimeSpan.FromDays(cadence * rng.Range(0.85, 1.15)))
                plan.Add((t, "order"));
        }
        if (s.NewCustomer && !s.Visitor && !s.IdentifyPending && plan.Count > 0) plan.Add((plan.Min(p => p.At).AddSeconds(-30), "signup"));
        plan.Sort((a, b) => a.At.CompareTo(b.At));

        if (s.IdentifyPending && plan.Count > 0)
        {
            // The anonymous first session must not straddle a catalog feed instant (see FORMAT.md notes).
            var first = plan[0].At;
            while (catalog.Touches(first, first + TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(3))) first += TimeSpan.FromMinutes(5);
            plan[0] = (first, "session");
        }

        var cursor = o.Start;
        foreach (var (at, kind) in plan)
        {
            if (at < o.Start) continue;
            var t = at < cursor + TimeSpan.FromMinutes(2) ? cursor + rng.Seconds(120, 900) : at;
            if (t > o.End) break;
            t = kind switch
            {
                "order" => OrderSession(s, t),
                "signup" => Lifecycle(s, t, "Signed Up"),
                _ => s.IdentifyPending ? AnonymousFirstSession(s, t) : Session(s, t),
            };
            cursor = t;
        }

        // Messages sent by other systems (count toward caps).
        if (!s.Visitor)
            for (int k = rng.Poisson(o.Days * 0.1); k > 0; k--)
            {
                var t = o.Start + TimeSpan.FromMilliseconds(rng.Range(0, (o.End - o.Start).TotalMilliseconds));
                var ch = rng.Chance(0.7) ? "email" : rng.Chance(0.5) ? "sms" : "push";
                var purpose = rng.Pick(Purposes);
                s.Calls.Add((t, Json(s, "track", $"ms-{i}-{s.MsgSeq++}", UserId(i), null, "Message Sent", t, w =>
                {
                    w.WriteString("channel", ch);
                    w.WriteString("purpose", purpose);
                }, context: false), false));
            }

        // Time order, inside [start, end]; then deliberate lateness and duplicates.
        var calls = s.Calls.Where(c => c.Ts >= o.Start && c.Ts <= o.End).OrderBy(c => c.Ts).ToList();
        var result = new List<GenCall>(calls.Count + 4);
        for (int k = 0; k < calls.Count; k++)
        {
            var (rawTs, json, noLate) = calls[k];
            var ts = Time.Ms(rawTs);
            var arrival = ts;
            if (rng.Chance(o.LateRate) && !noLate)
            {
                // Late: the timestamp is up to 30 s older than the position. Never past this person's next call,
                // never across a catalog feed instant.
                var shifted = ts + rng.Seconds(1, 30);
                bool clear = (k + 1 >= calls.Count || calls[k + 1].Ts > shifted + TimeSpan.FromMilliseconds(500))
                             && !catalog.Touches(ts, shifted, TimeSpan.FromSeconds(1));
                if (clear) arrival = shifted;
            }
            result.Add(new GenCall(ts, arrival, i, 2 * k, json));
            if (rng.Chance(o.DuplicateRate))
                result.Add(new GenCall(ts, arrival + rng.Seconds(1, 300), i, 2 * k + 1, json));
        }
        return result;
    }

    // ---------------------------------------------------------------- sessions

    private static TimeSpan Step(State s) => s.Rng.Seconds(8, 150);

    private DateTime Lifecycle(State s, DateTime t, string ev)
    {
        Track(s, t, ev, null, $"lc-{s.I}-{ev.Replace(' ', '_')}");
        return t;
    }

    private DateTime AnonymousFirstSession(State s, DateTime t)
    {
        var rng = s.Rng;
        var seenHere = new HashSet<string>();
        for (int k = rng.Int(0, 2); k > 0; k--)
        {
            var p = rng.Pick(s.Considered);
            if (!seenHere.Add(p.Id)) continue;
            View(s, t, p, allowSubscribe: false, longDwell: false);
            t += Step(s);
        }
        // Login / sign-up: identify with both ids merges the anonymous profile.
        s.Calls.Add((t, Json(s, "identify", $"id-{s.I}", UserId(s.I), AnonId(s.I), null, t, null, traits: true), true));
        s.Anonymous = false;
        s.IdentifyPending = false;
        t += Step(s);
        if (s.NewCustomer) { Track(s, t, "Signed Up", null, $"lc-{s.I}-Signed_Up"); t += Step(s); }
        return rng.Chance(0.5) ? Session(s, t) : t;
    }

    private DateTime Session(State s, DateTime t)
    {
        var rng = s.Rng;
        double r = rng.Double();
        if (s.Cart.Count > 0 && r < 0.12) return ReturnToCart(s, t);
        if (r < 0.05 && s.Viewed.Count > 0 && !s.Visitor)
        {
            var pid = rng.Pick(s.Viewed);
            var fb = rng.Chance(0.5) ? "not_interested" : "already_purchased";
            Track(s, t, "Trigger Feedback", w => { w.WriteString("product_id", pid); w.WriteString("feedback", fb); });
            return t;
        }
        if (r < 0.08 && !s.Visitor && !s.NewCustomer && rng.Chance(0.3))
        {
            Track(s, t, "Newsletter Subscribed", null, $"lc-{s.I}-Newsletter");
            s.NewCustomer = true; // once
            t += Step(s);
        }
        int views = rng.Int(1, 5);
        for (int k = 0; k < views; k++)
        {
            var p = PickProduct(s);
            View(s, t, p, allowSubscribe: true, longDwell: rng.Chance(0.01));
            t += Step(s);
        }
        if (r < 0.6) { if (rng.Chance(0.1)) { Track(s, t, "Products Searched", w => w.WriteString("query", "gift")); } return t; }

        // Cart session.
        for (int k = rng.Int(1, 3); k > 0; k--)
        {
            var p = PickProduct(s);
            var (price, inStock) = p.At(t);
            if (!inStock) continue;
            Add(s, t, p, rng.Int(1, 3), price);
            t += Step(s);
        }
        if (s.Cart.Count == 0) return t;
        double outcome = rng.Double();
        if (outcome < 0.4 && !s.Visitor) return Checkout(s, t);
        if (outcome < 0.55) return EmptyCart(s, t);
        return t; // abandoned
    }

    private DateTime ReturnToCart(State s, DateTime t)
    {
        var rng = s.Rng;
        Track(s, t, "Cart Viewed", w => { w.WriteString("cart_id", s.CartId); ProductsArray(s, w, full: false); });
        t += Step(s);
        if (rng.Chance(0.5) && !s.Visitor) return Checkout(s, t);
        var p = PickProduct(s);
        var (price, inStock) = p.At(t);
        if (inStock) { Add(s, t, p, 1, price); t += Step(s); }
        return t;
    }

    private DateTime OrderSession(State s, DateTime t)
    {
        var rng = s.Rng;
        foreach (var p in s.Staples)
        {
            var (price, inStock) = p.At(t);
            if (rng.Chance(0.5)) { View(s, t, p, allowSubscribe: false, longDwell: false); t += Step(s); }
            if (!inStock) continue;
            Add(s, t, p, rng.Int(1, 2), price);
            t += Step(s);
        }
        return s.Cart.Count == 0 ? t : Checkout(s, t);
    }

    private DateTime EmptyCart(State s, DateTime t)
    {
        foreach (var (pid, (qty, price)) in s.Cart.ToList())
        {
            var cart = s.CartId;
            Track(s, t, "Product Removed", w =>
            {
                w.WriteString("product_id", pid);
                w.WriteNumber("quantity", qty);
                w.WriteNumber("price", price);
                w.WriteString("cart_id", cart);
            });
            s.Cart.Remove(pid);
            t += Step(s);
        }
        return t;
    }

    private DateTime Checkout(State s, DateTime t)
    {
        var rng = s.Rng;
        var cart = s.CartId!;
        Track(s, t, "Checkout Started", w => { w.WriteString("cart_id", cart); ProductsArray(s, w, full: false); });
        t += rng.Seconds(30, 300);
        var orderId = $"o-{s.I}-{s.OrderSeq++}";
        bool namesCart = rng.Chance(0.9);
        decimal total = s.Cart.Values.Sum(v => v.Qty * v.Price);
        Track(s, t, "Order Completed", w =>
        {
            w.WriteString("order_id", orderId);
            w.WriteNumber("total", total);
            w.WriteString("currency", "EUR");
            if (namesCart) w.WriteString("cart_id", cart);
            ProductsArray(s, w, full: true);
        });
        s.Cart.Clear();
        s.CartId = null;
        return t;
    }

    private void ProductsArray(State s, Utf8JsonWriter w, bool full)
    {
        w.WriteStartArray("products");
        foreach (var (pid, (qty, price)) in s.Cart.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            var p = catalog.Products[int.Parse(pid.AsSpan(1))];
            w.WriteStartObject();
            w.WriteString("product_id", pid);
            w.WriteNumber("quantity", qty);
            w.WriteNumber("price", price);
            if (full)
            {
                w.WriteString("category", p.Category.Name);
                if (p.PackSize is not null) w.WriteString("pack_size", p.PackSize);
                if (p.ConsumptionDays is { } cd && s.Rng.Chance(0.2)) w.WriteNumber("consumption_days", cd);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private CatProduct PickProduct(State s)
    {
        var rng = s.Rng;
        double r = rng.Double();
        if (r < 0.6) return rng.Pick(s.Considered);
        if (r < 0.9) return rng.Pick(catalog.ByCategory[rng.Pick(s.Favourites)]);
        return rng.Pick(catalog.Products);
    }

    private void View(State s, DateTime t, CatProduct p, bool allowSubscribe, bool longDwell)
    {
        var rng = s.Rng;
        var (price, inStock) = p.At(t);
        bool withPrice = rng.Chance(0.9);
        double? dwell = longDwell ? rng.Range(2.1, 3) * 3_600_000 : rng.Chance(0.4) ? Math.Round(rng.Range(3_000, 240_000)) : null;
        void Props(Utf8JsonWriter w)
        {
            w.WriteString("product_id", p.Id);
            if (withPrice) w.WriteNumber("price", price);
            w.WriteString("category", p.Category.Name);
            if (dwell is { } d) w.WriteNumber("view_duration_ms", d);
        }
        if (rng.Chance(0.1)) Page(s, t, Props);
        else Track(s, t, "Product Viewed", Props);
        if (!s.Viewed.Contains(p.Id)) s.Viewed.Add(p.Id);
        if (!inStock && allowSubscribe && rng.Chance(0.35))
            Track(s, t + rng.Seconds(2, 20), "Product Subscribed", w => w.WriteString("product_id", p.Id));
    }

    private void Add(State s, DateTime t, CatProduct p, int qty, decimal price)
    {
        s.CartId ??= $"cart-{s.I}-{s.CartSeq++}";
        var cart = s.CartId;
        Track(s, t, "Product Added", w =>
        {
            w.WriteString("product_id", p.Id);
            w.WriteNumber("quantity", qty);
            w.WriteNumber("price", price);
            w.WriteString("cart_id", cart);
            w.WriteString("category", p.Category.Name);
        });
        s.Cart[p.Id] = s.Cart.TryGetValue(p.Id, out var have) ? (have.Qty + qty, price) : (qty, price);
    }

    // ---------------------------------------------------------------- JSON

    private void Track(State s, DateTime t, string ev, Action<Utf8JsonWriter>? props, string? messageId = null)
    {
        var id = messageId ?? $"m-{s.I}-{s.Calls.Count}";
        string? user = s.Anonymous ? null : UserId(s.I);
        string? anon = s.Anonymous || (s.Rng.Chance(0.1) && s.Visitor is false && s.IdentifyPending is false && HasAnon(s)) ? AnonId(s.I) : null;
        s.Calls.Add((t, Json(s, "track", id, user, anon, ev, t, props), false));
    }

    private void Page(State s, DateTime t, Action<Utf8JsonWriter> props)
    {
        string? user = s.Anonymous ? null : UserId(s.I);
        string? anon = s.Anonymous ? AnonId(s.I) : null;
        s.Calls.Add((t, Json(s, "page", $"m-{s.I}-{s.Calls.Count}", user, anon, null, t, props), false));
    }

    private bool HasAnon(State s) => s.Calls.Count > 0 && o.AnonymousRate > 0 && new Rng(Rng.Mix(o.Seed, (ulong)s.I, 1)).Double() < o.AnonymousRate;

    private string Json(State s, string type, string messageId, string? userId, string? anonymousId, string? ev, DateTime t,
        Action<Utf8JsonWriter>? props, bool context = true, bool traits = false)
    {
        var buf = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buf))
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            w.WriteString("messageId", messageId);
            if (userId is not null) w.WriteString("userId", userId);
            if (anonymousId is not null) w.WriteString("anonymousId", anonymousId);
            if (ev is not null) w.WriteString("event", ev);
            if (type == "page") w.WriteString("name", "Product");
            w.WriteString("timestamp", Time.Format(t));
            if (props is not null) { w.WriteStartObject("properties"); props(w); w.WriteEndObject(); }
            if (traits) { w.WriteStartObject("traits"); w.WriteString("email", $"{userId}@example.test"); w.WriteEndObject(); }
            if (context)
            {
                w.WriteStartObject("context");
                w.WriteString("channel", (s.I & 1) == 0 ? "web" : "app");
                if (s.Tz is not null) w.WriteString("timezone", s.Tz);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buf.WrittenSpan);
    }
}
