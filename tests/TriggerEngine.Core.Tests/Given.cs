using System.Text.Json;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;
using BackInStockEvent = TriggerEngine.Core.Events.BackInStock;

namespace TriggerEngine.Core.Tests;

/// <summary>Shared builders: explicit instants, a fully consented customer, event shorthands.</summary>
internal static class Given
{
    /// <summary>Monday 2025-03-03 10:00 UTC: daytime everywhere the tests look, so quiet hours stay out of the way.</summary>
    public static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2025-03-03T10:00:00Z");

    public const string CustomerId = "cust-1";

    /// <summary>The default policy with no arbitration wait: a fired scenario is decided at its firing instant.</summary>
    public static readonly PolicyRules Immediate = PolicyRules.Default with { ArbitrationWindow = TimeSpan.Zero };

    public static CustomerState Customer(string id = CustomerId) => new(id);

    /// <summary>Every channel and every purpose consented, no own limit, no opted-out topics.</summary>
    public static ConsentRecord Consented(int? maxPerWeek = null) => ConsentedTo(
        ["email", "sms", "push"], ["cart_reminders", "promotions", "product_alerts"], maxPerWeek);

    public static ConsentRecord ConsentedTo(string[] channels, string[]? purposes = null, int? maxPerWeek = null) => new(
        channels.ToDictionary(c => c, _ => true),
        (purposes ?? ["cart_reminders", "promotions", "product_alerts"]).ToDictionary(p => p, _ => true),
        maxPerWeek, [], false, T0.AddDays(-30));

    /// <summary>Event-clock mode (WallNow null), default scenario rules, no arbitration wait, fully consented.</summary>
    public static JourneyContext Context(ConsentRecord? consent = null, PolicyRules? policy = null,
        ScenarioRules? scenarios = null) =>
        new(scenarios ?? ScenarioRules.Default, policy ?? Immediate, consent ?? Consented());

    /// <summary>Like <see cref="Context"/> but with the SPEC default arbitration window of 1 minute.</summary>
    public static JourneyContext DefaultWindowContext(ConsentRecord? consent = null) =>
        new(ScenarioRules.Default, PolicyRules.Default, consent ?? Consented());

    public static ProductViewed Viewed(string messageId, DateTimeOffset at, string productId = "sku-1",
        decimal? price = 20m, long? durationMs = null, string? category = "shoes") =>
        new(messageId, at, productId, price, category, durationMs);

    public static ProductAdded Added(string messageId, DateTimeOffset at, string productId = "sku-1",
        string cartId = "cart-1", int quantity = 1, decimal? price = 20m) =>
        new(messageId, at, productId, quantity, price, cartId);

    public static ProductRemoved Removed(string messageId, DateTimeOffset at, string productId = "sku-1",
        string cartId = "cart-1", int? quantity = null) =>
        new(messageId, at, productId, quantity, cartId);

    public static OrderCompleted Order(string messageId, DateTimeOffset at, string orderId, string? cartId,
        params OrderLine[] lines) =>
        new(messageId, at, orderId, cartId, lines.Sum(l => (l.Price ?? 0m) * l.Quantity), lines);

    public static OrderLine Line(string productId = "sku-1", int quantity = 1, decimal? price = 20m,
        string? category = null, string? packSize = null, double? consumptionDays = null) =>
        new(productId, quantity, price, category, packSize, consumptionDays);

    public static SignedUp SignedUp(string messageId, DateTimeOffset at, string eventName = "Signed Up") =>
        new(messageId, at, eventName);

    public static MessageSent MessageSent(string messageId, DateTimeOffset at, string channel,
        string? purpose = "promotions") =>
        new(messageId, at, channel, purpose);

    public static TriggerFeedback Feedback(string messageId, DateTimeOffset at, string productId, string feedback) =>
        new(messageId, at, productId, feedback);

    public static ProductSubscribed Subscribed(string messageId, DateTimeOffset at, string productId = "sku-1") =>
        new(messageId, at, productId);

    public static PriceDropped PriceDropped(string messageId, DateTimeOffset at, decimal newPrice, decimal lowestSeen,
        DateTimeOffset interestAt, string productId = "sku-1", params string[] evidence) =>
        new(messageId, at, productId, newPrice, lowestSeen, interestAt, evidence.Length == 0 ? ["view-1"] : evidence,
            "shoes");

    public static BackInStockEvent BackInStock(string messageId, DateTimeOffset at, DateTimeOffset interestAt,
        string productId = "sku-1", params string[] evidence) =>
        new(messageId, at, productId, interestAt, evidence.Length == 0 ? ["sub-1"] : evidence, 20m, "shoes");

    /// <summary>Applies the events in order and returns every decision they produced.</summary>
    public static List<TriggerDecision> Play(CustomerState s, JourneyContext ctx, params CustomerEvent[] events)
    {
        var decisions = new List<TriggerDecision>();
        foreach (var e in events) decisions.AddRange(CustomerJourney.Handle(s, e, ctx).Decisions);
        return decisions;
    }

    /// <summary>A decision as the sinks would see it, for comparing whole decision lists.</summary>
    public static string Json(TriggerDecision d) => JsonSerializer.Serialize(d);

    public static IReadOnlyDictionary<string, object?> Product(TriggerDecision d) =>
        Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(d.Payload["product"]);

    public static ScenarioRules WithCommon(this ScenarioRules r, string scenario, Func<ScenarioCommon, ScenarioCommon> change) =>
        scenario switch
        {
            ScenarioName.AbandonedCart => r with { AbandonedCart = r.AbandonedCart with { Common = change(r.AbandonedCart.Common) } },
            ScenarioName.BrowseAbandonment => r with { BrowseAbandonment = r.BrowseAbandonment with { Common = change(r.BrowseAbandonment.Common) } },
            ScenarioName.PriceDrop => r with { PriceDrop = r.PriceDrop with { Common = change(r.PriceDrop.Common) } },
            ScenarioName.ReorderDelay => r with { ReorderDelay = r.ReorderDelay with { Common = change(r.ReorderDelay.Common) } },
            ScenarioName.Replenishment => r with { Replenishment = r.Replenishment with { Common = change(r.Replenishment.Common) } },
            ScenarioName.BackInStock => r with { BackInStock = r.BackInStock with { Common = change(r.BackInStock.Common) } },
            ScenarioName.Welcome => r with { Welcome = r.Welcome with { Common = change(r.Welcome.Common) } },
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };
}
