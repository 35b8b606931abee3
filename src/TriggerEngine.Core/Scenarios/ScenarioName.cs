namespace TriggerEngine.Core.Scenarios;

/// <summary>The scenario names of SPEC section 3, as they appear in decisions and config.</summary>
public static class ScenarioName
{
    public const string AbandonedCart = "abandoned_cart";
    public const string BrowseAbandonment = "browse_abandonment";
    public const string PriceDrop = "price_drop";
    public const string ReorderDelay = "reorder_delay";
    public const string Replenishment = "replenishment";
    public const string BackInStock = "back_in_stock";
    public const string Welcome = "welcome";

    public static readonly IReadOnlyList<string> All =
        [AbandonedCart, BrowseAbandonment, PriceDrop, ReorderDelay, Replenishment, BackInStock, Welcome];
}
