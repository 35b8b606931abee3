namespace TriggerEngine.Core.Scenarios;

/// <summary>What every scenario declares: consent purpose, channels by preference, priority, topics.</summary>
public sealed record ScenarioCommon(string Purpose, IReadOnlyList<string> Channels, int Priority,
    IReadOnlyList<string> Topics, bool Enabled = true, TimeSpan? MaxDeferral = null);

public sealed record AbandonedCartRules(ScenarioCommon Common, TimeSpan Delay, TimeSpan? FollowUp);

public sealed record BrowseAbandonmentRules(ScenarioCommon Common, int MinViews, TimeSpan MinDwell, TimeSpan Window,
    TimeSpan QuietPeriod, TimeSpan RepeatAfter);

public sealed record PriceDropRules(ScenarioCommon Common, TimeSpan Lookback, decimal MinDropPct);

public sealed record ReorderDelayRules(ScenarioCommon Common, int MinOrders, double GraceFactor);

public sealed record ReplenishmentRules(ScenarioCommon Common, TimeSpan XlExtraDays);

public sealed record BackInStockRules(ScenarioCommon Common);

public sealed record WelcomeRules(ScenarioCommon Common);

/// <summary>All scenario parameters, every default from SPEC section 3.</summary>
public sealed record ScenarioRules(
    AbandonedCartRules AbandonedCart,
    BrowseAbandonmentRules BrowseAbandonment,
    PriceDropRules PriceDrop,
    ReorderDelayRules ReorderDelay,
    ReplenishmentRules Replenishment,
    BackInStockRules BackInStock,
    WelcomeRules Welcome)
{
    public static readonly ScenarioRules Default = new(
        new AbandonedCartRules(new("cart_reminders", ["email", "push", "sms"], 80, []), TimeSpan.FromMinutes(30), null),
        new BrowseAbandonmentRules(new("promotions", ["email", "push"], 40, []), 3, TimeSpan.FromHours(2),
            TimeSpan.FromDays(7), TimeSpan.FromHours(1), TimeSpan.FromDays(30)),
        new PriceDropRules(new("product_alerts", ["email", "push"], 70, []), TimeSpan.FromDays(30), 10m),
        new ReorderDelayRules(new("promotions", ["email"], 30, []), 3, 1.2),
        new ReplenishmentRules(new("product_alerts", ["email", "sms"], 60, []), TimeSpan.FromDays(7)),
        new BackInStockRules(new("product_alerts", ["email", "push", "sms"], 70, [])),
        new WelcomeRules(new("promotions", ["email", "sms"], 90, [])));

    public ScenarioCommon CommonOf(string scenario) => scenario switch
    {
        ScenarioName.AbandonedCart => AbandonedCart.Common,
        ScenarioName.BrowseAbandonment => BrowseAbandonment.Common,
        ScenarioName.PriceDrop => PriceDrop.Common,
        ScenarioName.ReorderDelay => ReorderDelay.Common,
        ScenarioName.Replenishment => Replenishment.Common,
        ScenarioName.BackInStock => BackInStock.Common,
        ScenarioName.Welcome => Welcome.Common,
        _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "unknown scenario"),
    };
}
