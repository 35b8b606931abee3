using System.Globalization;
using System.Text.Json;

namespace TriggerEngine.LoadTool.Oracle;

/// <summary>A scenario's policy-facing definition (SPEC 3, second table).</summary>
internal sealed record ScenarioDef(string Name, string Purpose, string[] Channels, int Priority, string[] Topics, TimeSpan? MaxDeferral = null);

/// <summary>Defaults of SPEC 3 and 4 (and README's settings tables). Nothing here is read from the engine.</summary>
internal sealed class OracleSettings
{
    public static readonly string[] ScenarioNames =
        ["abandoned_cart", "browse_abandonment", "price_drop", "reorder_delay", "replenishment", "back_in_stock", "welcome"];

    public Dictionary<string, ScenarioDef> Scenarios { get; } = new()
    {
        ["abandoned_cart"] = new("abandoned_cart", "cart_reminders", ["email", "push", "sms"], 80, []),
        ["price_drop"] = new("price_drop", "product_alerts", ["email", "push"], 70, []),
        ["back_in_stock"] = new("back_in_stock", "product_alerts", ["email", "push", "sms"], 70, []),
        ["replenishment"] = new("replenishment", "product_alerts", ["email", "sms"], 60, []),
        ["browse_abandonment"] = new("browse_abandonment", "promotions", ["email", "push"], 40, []),
        ["reorder_delay"] = new("reorder_delay", "promotions", ["email"], 30, []),
        ["welcome"] = new("welcome", "promotions", ["email", "sms"], 90, []),
    };

    // Scenario parameters (SPEC 3 defaults).
    public TimeSpan CartDelay { get; init; } = TimeSpan.FromMinutes(30);
    public int BrowseMinViews { get; init; } = 3;
    public TimeSpan BrowseMinDwell { get; init; } = TimeSpan.FromHours(2);
    public TimeSpan BrowseWindow { get; init; } = TimeSpan.FromDays(7);
    public TimeSpan BrowseQuietPeriod { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan BrowseRepeatAfter { get; init; } = TimeSpan.FromDays(30);
    public TimeSpan PriceLookback { get; init; } = TimeSpan.FromDays(30);
    public decimal PriceMinDropPct { get; init; } = 10m;
    public int ReorderMinOrders { get; init; } = 3;
    public double ReorderGraceFactor { get; init; } = 1.2;
    /// <summary>
    /// SPEC says "median of the last gaps" without a number. The engine (observed black-box on generated traffic, see
    /// perf/README.md) keeps the last 12 orders, i.e. the median of the last 11 gaps; the README should state it.
    /// </summary>
    public int ReorderOrdersKept { get; init; } = 12;
    public TimeSpan XlExtraDays { get; init; } = TimeSpan.FromDays(7);

    // Policy (SPEC 4 defaults).
    public bool RequireConsentRecord { get; init; } = true;
    public string DefaultTimeZone { get; init; } = "UTC";
    public TimeSpan ArbitrationWindow { get; init; } = TimeSpan.FromMinutes(1);
    public int GlobalMax { get; init; } = 3;
    public TimeSpan GlobalPer { get; init; } = TimeSpan.FromDays(7);
    public Dictionary<string, (int Max, TimeSpan Per)> ChannelCaps { get; } = new()
    {
        ["email"] = (1, TimeSpan.FromHours(24)),
        ["sms"] = (1, TimeSpan.FromDays(7)),
        ["push"] = (2, TimeSpan.FromHours(24)),
    };
    public TimeSpan ScenarioCooldown { get; init; } = TimeSpan.FromHours(24);
    public TimeSpan MinimumGap { get; init; } = TimeSpan.FromHours(4);
    public Dictionary<string, (TimeSpan Start, TimeSpan End)> QuietHours { get; } = new()
    {
        ["sms"] = (TimeSpan.FromHours(21), TimeSpan.FromHours(8)),
        ["push"] = (TimeSpan.FromHours(21), TimeSpan.FromHours(8)),
    };
}

/// <summary>SPEC 4 consent record.</summary>
internal sealed class ConsentRecord
{
    public Dictionary<string, bool> Channels { get; } = new();
    public Dictionary<string, bool> Purposes { get; } = new();
    public int? MaxPerWeek { get; set; }
    public List<string> OptOutTopics { get; } = new();
    public bool UnsubscribedAll { get; set; }
    public DateTime? UpdatedAt { get; set; }

    public bool Channel(string c) => Channels.TryGetValue(c, out var v) && v;
    public bool Purpose(string p) => Purposes.TryGetValue(p, out var v) && v;

    public static ConsentRecord Parse(JsonElement e)
    {
        var r = new ConsentRecord();
        if (e.TryGetProperty("channels", out var ch) && ch.ValueKind == JsonValueKind.Object)
            foreach (var p in ch.EnumerateObject()) r.Channels[p.Name] = p.Value.ValueKind == JsonValueKind.True;
        if (e.TryGetProperty("purposes", out var pu) && pu.ValueKind == JsonValueKind.Object)
            foreach (var p in pu.EnumerateObject()) r.Purposes[p.Name] = p.Value.ValueKind == JsonValueKind.True;
        if (e.TryGetProperty("maxPerWeek", out var m) && m.ValueKind == JsonValueKind.Number) r.MaxPerWeek = m.GetInt32();
        if (e.TryGetProperty("optOutTopics", out var t) && t.ValueKind == JsonValueKind.Array)
            foreach (var x in t.EnumerateArray()) if (x.GetString() is { } s) r.OptOutTopics.Add(s);
        if (e.TryGetProperty("unsubscribedAll", out var u)) r.UnsubscribedAll = u.ValueKind == JsonValueKind.True;
        if (e.TryGetProperty("updatedAt", out var ua) && ua.ValueKind == JsonValueKind.String) r.UpdatedAt = Time.Parse(ua.GetString()!);
        return r;
    }
}

internal sealed record OrderLine(string ProductId, int Quantity, decimal? Price, string? PackSize, double? ConsumptionDays);

/// <summary>The fields of a SPEC 2 call the scenarios read.</summary>
internal sealed class Call
{
    public string Type = "track";
    public string MessageId = "";
    public string? UserId;
    public string? AnonymousId;
    public string? Event;
    public DateTime Ts;
    public string? Timezone;
    public string? ProductId;
    public decimal? Price;
    public int? Quantity;
    public string? CartId;
    public string? OrderId;
    public double? ViewDurationMs;
    public string? Feedback;
    public string? Channel;
    public string? Purpose;
    public List<OrderLine> Products = new();

    public static Call Parse(string line) { using var d = JsonDocument.Parse(line); return Parse(d.RootElement); }

    public static Call Parse(JsonElement e)
    {
        var c = new Call
        {
            Type = Str(e, "type") ?? "track",
            MessageId = Str(e, "messageId") ?? throw new InvalidDataException("call without messageId"),
            UserId = Str(e, "userId"),
            AnonymousId = Str(e, "anonymousId"),
            Event = Str(e, "event"),
            Ts = Time.Parse(Str(e, "timestamp") ?? throw new InvalidDataException("call without timestamp")),
        };
        if (e.TryGetProperty("context", out var ctx) && ctx.ValueKind == JsonValueKind.Object) c.Timezone = Str(ctx, "timezone");
        if (e.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            c.ProductId = Str(p, "product_id");
            c.Price = Dec(p, "price");
            c.Quantity = p.TryGetProperty("quantity", out var q) && q.ValueKind == JsonValueKind.Number ? q.GetInt32() : null;
            c.CartId = Str(p, "cart_id");
            c.OrderId = Str(p, "order_id");
            c.ViewDurationMs = p.TryGetProperty("view_duration_ms", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
            c.Feedback = Str(p, "feedback");
            c.Channel = Str(p, "channel");
            c.Purpose = Str(p, "purpose");
            if (p.TryGetProperty("products", out var ps) && ps.ValueKind == JsonValueKind.Array)
                foreach (var l in ps.EnumerateArray())
                {
                    if (Str(l, "product_id") is not { } pid) continue;
                    int qty = l.TryGetProperty("quantity", out var lq) && lq.ValueKind == JsonValueKind.Number ? lq.GetInt32() : 1;
                    double? cd = l.TryGetProperty("consumption_days", out var lc) && lc.ValueKind == JsonValueKind.Number ? lc.GetDouble() : null;
                    c.Products.Add(new OrderLine(pid, qty, Dec(l, "price"), Str(l, "pack_size"), cd));
                }
        }
        return c;
    }

    internal static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static decimal? Dec(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDecimal() : null;
}

/// <summary>One SPEC 2 catalog product update.</summary>
internal sealed class ProductUpdate
{
    public string ProductId = "";
    public decimal? Price;
    public bool? InStock;
    public string? Category;
    public string? PackSize;
    public double? ConsumptionDays;
    public DateTime Ts;

    public static ProductUpdate Parse(JsonElement e) => new()
    {
        ProductId = Call.Str(e, "product_id")!,
        Price = Call.Dec(e, "price"),
        InStock = e.TryGetProperty("in_stock", out var s) && s.ValueKind is JsonValueKind.True or JsonValueKind.False ? s.GetBoolean() : null,
        Category = Call.Str(e, "category"),
        PackSize = Call.Str(e, "pack_size"),
        ConsumptionDays = e.TryGetProperty("consumption_days", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetDouble() : null,
        Ts = Time.Parse(Call.Str(e, "timestamp")!),
    };
}

/// <summary>An expected (or actual) final decision, the fields compare matches on.</summary>
internal sealed record DecisionRecord(string CustomerId, string Scenario, string Outcome, string? SuppressedBy, string? Channel,
    DateTime FiredAt, DateTime DecidedAt, DateTime? DeferredUntil = null);

internal static class Time
{
    public static DateTime Parse(string s) =>
        DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).UtcDateTime;

    public static string Format(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Truncated to milliseconds: the precision of the timestamps in and out of the engine.</summary>
    public static DateTime Ms(DateTime t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
}
