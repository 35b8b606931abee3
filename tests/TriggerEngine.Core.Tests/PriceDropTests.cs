using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

public sealed class PriceDropTests
{
    private static readonly TimeSpan Lookback = ScenarioRules.Default.PriceDrop.Lookback;

    private static ProductState ProductAt(decimal price, DateTimeOffset at, bool inStock = true)
    {
        var p = new ProductState("sku-1");
        ProductCatalog.OnUpdate(p, new CatalogUpdate("sku-1", price, "EUR", inStock, "shoes", null, null, at), Lookback);
        return p;
    }

    private static CatalogUpdate PriceUpdate(decimal price, DateTimeOffset at) =>
        new("sku-1", price, null, null, null, null, null, at);

    [Fact]
    public void Given_customer_viewed_at_100_When_catalog_price_falls_to_85_Then_price_drop_sent_based_on_the_view()
    {
        var p = ProductAt(100m, T0.AddDays(-1));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Viewed, "view-1", T0, 100m));
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Viewed("view-1", T0, price: 100m));

        var (customerId, note) = Assert.Single(ProductCatalog.OnUpdate(p, PriceUpdate(85m, T0.AddDays(2)), Lookback));
        var decisions = Play(s, ctx, note);

        Assert.Equal(CustomerId, customerId);
        var d = Assert.Single(decisions);
        Assert.Equal(ScenarioName.PriceDrop, d.Scenario);
        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("email", d.Channel);
        Assert.Equal("product_alerts", d.Purpose);
        Assert.Equal(70, d.Priority);
        Assert.Equal(T0.AddDays(2), d.FiredAt);
        Assert.Equal(["view-1"], d.BasedOn);
        Assert.Equal("The price of sku-1 dropped 15% from 100.00 to 85.00 since you looked at it", d.Reason);
        Assert.Equal(85m, Product(d)["price"]);
        Assert.Equal(100m, Product(d)["old_price"]);
        Assert.Equal(15m, Product(d)["drop_pct"]);
    }

    [Fact]
    public void Given_view_without_price_When_catalog_price_falls_Then_lowest_seen_is_the_catalog_price_at_the_view()
    {
        var p = ProductAt(120m, T0.AddDays(-1));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Viewed, "view-1", T0, null));

        var (_, note) = Assert.Single(ProductCatalog.OnUpdate(p, PriceUpdate(100m, T0.AddDays(1)), Lookback));

        var drop = Assert.IsType<PriceDropped>(note);
        Assert.Equal(120m, drop.LowestSeenPrice);
        Assert.Equal(100m, drop.NewPrice);
        Assert.Equal(T0, drop.InterestAt);
        Assert.Equal(["view-1"], drop.Evidence);
    }

    [Fact]
    public void Given_customer_saw_a_lower_price_than_the_catalog_When_drop_is_under_10_pct_of_that_Then_no_price_drop()
    {
        var p = ProductAt(100m, T0.AddDays(-1));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Viewed, "view-1", T0, 90m));
        var s = Customer();
        var ctx = Context();

        var (_, note) = Assert.Single(ProductCatalog.OnUpdate(p, PriceUpdate(85m, T0.AddDays(1)), Lookback));
        var decisions = Play(s, ctx, note);

        Assert.Equal(90m, Assert.IsType<PriceDropped>(note).LowestSeenPrice);
        Assert.Empty(decisions);
    }

    [Fact]
    public void Given_interest_When_price_falls_exactly_10_pct_Then_price_drop_fires()
    {
        var s = Customer();

        var d = Assert.Single(Play(s, Context(), PriceDropped("pd-1", T0.AddDays(1), 90m, 100m, T0)));

        Assert.Equal(ScenarioName.PriceDrop, d.Scenario);
        Assert.Equal(10m, Product(d)["drop_pct"]);
    }

    [Fact]
    public void Given_interest_When_price_falls_just_under_10_pct_Then_nothing_fires()
    {
        var s = Customer();

        Assert.Empty(Play(s, Context(), PriceDropped("pd-1", T0.AddDays(1), 90.01m, 100m, T0)));
    }

    [Fact]
    public void Given_interest_exactly_lookback_ago_When_price_drops_Then_fires()
    {
        var s = Customer();

        Assert.Single(Play(s, Context(), PriceDropped("pd-1", T0 + Lookback, 50m, 100m, T0)));
    }

    [Fact]
    public void Given_interest_older_than_lookback_When_price_drops_Then_nothing_fires()
    {
        var s = Customer();

        Assert.Empty(Play(s, Context(), PriceDropped("pd-1", T0 + Lookback + TimeSpan.FromTicks(1), 50m, 100m, T0)));
    }

    [Fact]
    public void Given_interest_older_than_lookback_When_catalog_price_drops_Then_the_product_notifies_nobody()
    {
        var p = ProductAt(100m, T0.AddDays(-1));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Viewed, "view-1", T0, 100m));

        var notes = ProductCatalog.OnUpdate(p, PriceUpdate(50m, T0 + Lookback + TimeSpan.FromSeconds(1)), Lookback);

        Assert.Empty(notes);
    }

    [Fact]
    public void Given_interest_When_catalog_price_rises_Then_nobody_is_notified()
    {
        var p = ProductAt(100m, T0.AddDays(-1));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Viewed, "view-1", T0, 100m));

        Assert.Empty(ProductCatalog.OnUpdate(p, PriceUpdate(120m, T0.AddDays(1)), Lookback));
    }

    [Fact]
    public void Given_viewed_product_When_customer_bought_it_before_the_drop_Then_nothing_fires()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Viewed("view-1", T0, price: 100m), Order("ord-1", T0.AddHours(1), "o-1", null, Line("sku-1", price: 100m)));

        var decisions = Play(s, ctx, PriceDropped("pd-1", T0.AddDays(1), 80m, 100m, T0));

        Assert.DoesNotContain(decisions, d => d.Scenario == ScenarioName.PriceDrop);
    }

    [Theory]
    [InlineData("already_purchased")]
    [InlineData("not_interested")]
    public void Given_viewed_product_When_feedback_given_before_the_drop_Then_nothing_fires(string feedback)
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Viewed("view-1", T0, price: 100m), Feedback("fb-1", T0.AddHours(1), "sku-1", feedback));

        Assert.Empty(Play(s, ctx, PriceDropped("pd-1", T0.AddDays(1), 80m, 100m, T0)));
    }

    [Fact]
    public void Given_feedback_before_a_renewed_interest_When_price_drops_Then_fires_again()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Feedback("fb-1", T0, "sku-1", "not_interested"));

        Assert.Single(Play(s, ctx, PriceDropped("pd-1", T0.AddDays(3), 80m, 100m, T0.AddDays(1))));
    }

    [Fact]
    public void Given_price_drop_notified_When_same_price_reported_again_Then_once_per_price_level()
    {
        var s = Customer();
        var ctx = Context();
        Assert.Single(Play(s, ctx, PriceDropped("pd-1", T0.AddDays(1), 80m, 100m, T0)));

        var again = Play(s, ctx, PriceDropped("pd-2", T0.AddDays(3), 80m, 100m, T0));

        Assert.Empty(again);
    }

    [Fact]
    public void Given_price_drop_notified_When_price_falls_to_a_lower_level_Then_fires_again()
    {
        var s = Customer();
        var ctx = Context();
        var first = Assert.Single(Play(s, ctx, PriceDropped("pd-1", T0.AddDays(1), 80m, 100m, T0)));

        var second = Assert.Single(Play(s, ctx, PriceDropped("pd-2", T0.AddDays(3), 70m, 100m, T0)));

        Assert.Equal(Outcome.Sent, second.Outcome);
        Assert.NotEqual(first.DecisionId, second.DecisionId);
        Assert.Equal(70m, Product(second)["price"]);
    }

    [Fact]
    public void Given_no_interest_from_this_customer_When_catalog_price_drops_Then_nobody_is_notified()
    {
        var p = ProductAt(100m, T0.AddDays(-1));

        Assert.Empty(ProductCatalog.OnUpdate(p, PriceUpdate(50m, T0), Lookback));
    }

    [Fact]
    public void Given_cart_add_and_subscription_When_price_drops_Then_basedOn_lists_all_interest_evidence()
    {
        var p = ProductAt(100m, T0.AddDays(-1));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Added, "add-1", T0, 100m));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Subscribed, "sub-1", T0.AddHours(1), null));

        var (_, note) = Assert.Single(ProductCatalog.OnUpdate(p, PriceUpdate(80m, T0.AddDays(1)), Lookback));
        var d = Assert.Single(Play(Customer(), Context(), note));

        Assert.Equal(["add-1", "sub-1"], d.BasedOn);
    }
}
