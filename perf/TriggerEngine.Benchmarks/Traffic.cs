using System.Globalization;
using System.Text.Json;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;

namespace TriggerEngine.Benchmarks;

/// <summary>
/// Fixed inputs shared by the benchmarks: explicit instants, one fully consented customer and seeded
/// event mixes, so every run measures the same work.
/// </summary>
internal static class Traffic
{
    /// <summary>Monday 2025-03-03 09:00 UTC.</summary>
    public static readonly DateTimeOffset T0 = new(2025, 3, 3, 9, 0, 0, TimeSpan.Zero);

    public const string CustomerId = "cust-42";
    public const string TimeZone = "Europe/Paris";

    /// <summary>Every channel and purpose consented, no own limit, no opted-out topics.</summary>
    public static readonly ConsentRecord Consent = new(
        new Dictionary<string, bool> { ["email"] = true, ["sms"] = true, ["push"] = true },
        new Dictionary<string, bool> { ["cart_reminders"] = true, ["promotions"] = true, ["product_alerts"] = true },
        null, [], false, T0.AddDays(-30));

    /// <summary>Event-clock mode with the default rules (1 minute arbitration window), as the engine runs them.</summary>
    public static readonly JourneyContext Context = new(ScenarioRules.Default, PolicyRules.Default, Consent);

    private static decimal PriceOf(int sku) => 10m + sku * 7 % 90;
    private static string CategoryOf(int sku) => (sku % 4) switch { 0 => "shoes", 1 => "coffee", 2 => "books", _ => "toys" };

    /// <summary>
    /// One customer's events: sessions of 3–12 calls a minute or so apart (55 % product views, 30 % cart adds,
    /// 5 % removals, 10 % orders of the open cart), separated by idle gaps of 10 minutes to 2 days, so that
    /// abandoned-cart and browse timers fall due between sessions as they do in real traffic.
    /// </summary>
    public static CustomerEvent[] EventMix(int count, int seed)
    {
        var rng = new Random(seed);
        var events = new CustomerEvent[count];
        var cart = new Dictionary<int, int>();
        var cartNo = 1;
        var t = T0;
        var sessionLeft = rng.Next(3, 13);
        for (var i = 0; i < count; i++)
        {
            if (sessionLeft-- == 0)
            {
                t += TimeSpan.FromMinutes(rng.Next(10, 48 * 60));
                sessionLeft = rng.Next(3, 13);
            }
            else t += TimeSpan.FromSeconds(rng.Next(20, 90));
            var id = $"msg-{seed}-{i}";
            var sku = rng.Next(40);
            var roll = rng.Next(100);
            CustomerEvent e;
            if (roll is >= 55 and < 85)
            {
                var quantity = rng.Next(1, 3);
                cart[sku] = cart.GetValueOrDefault(sku) + quantity;
                e = new ProductAdded(id, t, $"sku-{sku}", quantity, PriceOf(sku), $"cart-{cartNo}");
            }
            else if (roll is >= 85 and < 90 && cart.Count > 0)
            {
                var gone = cart.Keys.First();
                cart.Remove(gone);
                e = new ProductRemoved(id, t, $"sku-{gone}", null, $"cart-{cartNo}");
            }
            else if (roll >= 90 && cart.Count > 0)
            {
                var lines = cart.Select(kv => new OrderLine($"sku-{kv.Key}", kv.Value, PriceOf(kv.Key), CategoryOf(kv.Key), null, null))
                    .ToArray();
                e = new OrderCompleted(id, t, $"order-{seed}-{i}", $"cart-{cartNo}", lines.Sum(l => l.Price!.Value * l.Quantity), lines);
                cart.Clear();
                cartNo++;
            }
            else e = new ProductViewed(id, t, $"sku-{sku}", PriceOf(sku), CategoryOf(sku), rng.Next(2_000, 90_000));
            events[i] = e with { TimeZone = TimeZone };
        }
        return events;
    }

    /// <summary>When <see cref="WithOpenCart"/>'s cart is due (30 min idle) and its arbitration window (1 min) has closed.</summary>
    public static readonly DateTimeOffset CartDecidedBy = T0.AddHours(10).AddMinutes(2 + 30 + 1);

    /// <summary>
    /// A customer with some history (views, an order last week, an email another system sent two days
    /// ago) who put two products in a cart at 19:00 UTC and left: at <see cref="CartDecidedBy"/> the
    /// abandoned cart fires and is sent by email.
    /// </summary>
    public static CustomerState WithOpenCart()
    {
        var s = new CustomerState(CustomerId);
        var at = T0.AddDays(-7);
        var n = 0;
        CustomerEvent[] history =
        [
            new ProductViewed($"h{n++}", at, "sku-3", PriceOf(3), CategoryOf(3), 12_000),
            new ProductAdded($"h{n++}", at.AddMinutes(1), "sku-3", 1, PriceOf(3), "cart-0"),
            new OrderCompleted($"h{n++}", at.AddMinutes(3), "order-0", "cart-0", PriceOf(3),
                [new OrderLine("sku-3", 1, PriceOf(3), CategoryOf(3), null, null)]),
            new MessageSent($"h{n++}", T0.AddDays(-2), "email", "promotions"),
            new ProductViewed($"h{n++}", T0.AddHours(10), "sku-1", PriceOf(1), CategoryOf(1), 30_000),
            new ProductViewed($"h{n++}", T0.AddHours(10).AddSeconds(40), "sku-2", PriceOf(2), CategoryOf(2), 8_000),
            new ProductAdded($"h{n++}", T0.AddHours(10).AddMinutes(1), "sku-1", 1, PriceOf(1), "cart-1"),
            new ProductAdded($"h{n++}", T0.AddHours(10).AddMinutes(2), "sku-2", 2, PriceOf(2), "cart-1"),
        ];
        foreach (var e in history) CustomerJourney.Handle(s, e with { TimeZone = TimeZone }, Context);
        return s;
    }

    /// <summary>The abandoned-cart decision <see cref="WithOpenCart"/> leads to (items in its payload).</summary>
    public static TriggerDecision AbandonedCartDecision()
    {
        var step = CustomerJourney.AdvanceTo(WithOpenCart(), CartDecidedBy, Context);
        return step.Decisions is [{ Scenario: ScenarioName.AbandonedCart, Outcome: Outcome.Sent } d]
            ? d
            : throw new InvalidOperationException(
                $"expected one sent abandoned_cart decision, got: {string.Join(", ", step.Decisions.Select(x => $"{x.Scenario} {x.Outcome}"))}");
    }

    /// <summary>
    /// A <c>/v1/batch</c> body of <paramref name="calls"/> Segment calls from 50 people: product views, cart
    /// adds and removals, orders, pages and identifies, each with the context an analytics.js call carries.
    /// </summary>
    public static string SegmentBatch(int calls, int seed)
    {
        var rng = new Random(seed);
        var batch = new List<Dictionary<string, object?>>(calls);
        var t = T0;
        for (var i = 0; i < calls; i++)
        {
            t += TimeSpan.FromMilliseconds(rng.Next(50, 2_000));
            var person = rng.Next(50);
            var sku = rng.Next(40);
            var roll = rng.Next(100);
            var call = new Dictionary<string, object?>
            {
                ["messageId"] = $"ajs-{seed}-{i:D6}-{rng.Next():x8}",
                ["userId"] = person < 35 ? $"user-{person}" : null,
                ["anonymousId"] = $"anon-{person:D4}-5f3c-4a8e-9d0b",
                ["timestamp"] = t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["context"] = new Dictionary<string, object?>
                {
                    ["timezone"] = TimeZone,
                    ["ip"] = $"203.0.113.{person}",
                    ["locale"] = "fr-FR",
                    ["library"] = new Dictionary<string, object?> { ["name"] = "analytics.js", ["version"] = "4.1.0" },
                    ["userAgent"] = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                    ["page"] = new Dictionary<string, object?> { ["path"] = $"/p/sku-{sku}", ["url"] = $"https://shop.example/p/sku-{sku}" },
                },
            };
            var product = new Dictionary<string, object?>
            {
                ["product_id"] = $"sku-{sku}", ["price"] = PriceOf(sku), ["category"] = CategoryOf(sku), ["name"] = $"Product {sku}",
            };
            switch (roll)
            {
                case < 45:
                    call["type"] = "track";
                    call["event"] = "Product Viewed";
                    call["properties"] = new Dictionary<string, object?>(product) { ["view_duration_ms"] = rng.Next(2_000, 90_000) };
                    break;
                case < 70:
                    call["type"] = "track";
                    call["event"] = "Product Added";
                    call["properties"] = new Dictionary<string, object?>(product)
                        { ["quantity"] = rng.Next(1, 3), ["cart_id"] = $"cart-{person}" };
                    break;
                case < 75:
                    call["type"] = "track";
                    call["event"] = "Product Removed";
                    call["properties"] = new Dictionary<string, object?>(product) { ["cart_id"] = $"cart-{person}" };
                    break;
                case < 80:
                    call["type"] = "track";
                    call["event"] = "Order Completed";
                    call["properties"] = new Dictionary<string, object?>
                    {
                        ["order_id"] = $"order-{seed}-{i}", ["cart_id"] = $"cart-{person}", ["total"] = PriceOf(sku) * 2 + PriceOf(sku + 1),
                        ["currency"] = "EUR",
                        ["products"] = new[]
                        {
                            new Dictionary<string, object?>(product) { ["quantity"] = 2 },
                            new Dictionary<string, object?>
                                { ["product_id"] = $"sku-{sku + 1}", ["price"] = PriceOf(sku + 1), ["quantity"] = 1, ["category"] = CategoryOf(sku + 1) },
                        },
                    };
                    break;
                case < 95:
                    call["type"] = "page";
                    call["name"] = "Product";
                    call["properties"] = new Dictionary<string, object?>(product) { ["path"] = $"/p/sku-{sku}" };
                    break;
                default:
                    call["type"] = "identify";
                    call["userId"] = $"user-{person}";
                    call["traits"] = new Dictionary<string, object?> { ["email"] = $"user{person}@example.com", ["plan"] = "free" };
                    break;
            }
            batch.Add(call);
        }
        return JsonSerializer.Serialize(new Dictionary<string, object?> { ["batch"] = batch, ["sentAt"] = "2025-03-03T10:00:00.000Z" });
    }
}
