using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

public sealed class BackInStockTests
{
    private static readonly TimeSpan Lookback = ScenarioRules.Default.PriceDrop.Lookback;

    private static ProductState Product(bool inStock, DateTimeOffset at)
    {
        var p = new ProductState("sku-1");
        ProductCatalog.OnUpdate(p, Stock(inStock, at), Lookback);
        return p;
    }

    private static CatalogUpdate Stock(bool inStock, DateTimeOffset at) =>
        new("sku-1", null, null, inStock, null, null, null, at);

    [Fact]
    public void Given_subscription_to_out_of_stock_product_When_restocked_Then_back_in_stock_sent_based_on_the_subscription()
    {
        var p = Product(inStock: false, T0.AddDays(-1));
        ProductCatalog.OnUpdate(p, new CatalogUpdate("sku-1", 30m, "EUR", null, "shoes", null, null, T0.AddDays(-1)), Lookback);
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Subscribed, "sub-1", T0, null));
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Subscribed("sub-1", T0));

        var (customerId, note) = Assert.Single(ProductCatalog.OnUpdate(p, Stock(true, T0.AddDays(2)), Lookback));
        var d = Assert.Single(Play(s, ctx, note));

        Assert.Equal(CustomerId, customerId);
        Assert.Equal(ScenarioName.BackInStock, d.Scenario);
        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("email", d.Channel);
        Assert.Equal("product_alerts", d.Purpose);
        Assert.Equal(70, d.Priority);
        Assert.Equal(T0.AddDays(2), d.FiredAt);
        Assert.Equal(["sub-1"], d.BasedOn);
        Assert.Equal("sku-1, which you were waiting for, is back in stock", d.Reason);
        Assert.Equal(30m, Given.Product(d)["price"]);
    }

    [Fact]
    public void Given_view_while_out_of_stock_When_restocked_Then_the_viewer_is_notified()
    {
        var p = Product(inStock: false, T0.AddDays(-1));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Viewed, "view-1", T0, null));

        var (_, note) = Assert.Single(ProductCatalog.OnUpdate(p, Stock(true, T0.AddDays(1)), Lookback));

        var b = Assert.IsType<TriggerEngine.Core.Events.BackInStock>(note);
        Assert.Equal(T0, b.InterestAt);
        Assert.Equal(["view-1"], b.Evidence);
    }

    [Fact]
    public void Given_view_while_in_stock_When_the_same_messageId_arrives_again_after_it_went_out_of_stock_Then_the_viewer_is_not_notified()
    {
        var p = Product(inStock: true, T0.AddDays(-1));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Viewed, "view-1", T0, null));
        ProductCatalog.OnUpdate(p, Stock(false, T0.AddMinutes(1)), Lookback);
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Viewed, "view-1", T0, null)); // a replayed call

        Assert.Empty(ProductCatalog.OnUpdate(p, Stock(true, T0.AddDays(2)), Lookback));
    }

    [Fact]
    public void Given_view_while_in_stock_When_product_goes_out_and_back_in_Then_the_viewer_is_not_notified()
    {
        var p = Product(inStock: true, T0.AddDays(-1));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Viewed, "view-1", T0, null));
        ProductCatalog.OnUpdate(p, Stock(false, T0.AddDays(1)), Lookback);

        Assert.Empty(ProductCatalog.OnUpdate(p, Stock(true, T0.AddDays(2)), Lookback));
    }

    [Fact]
    public void Given_subscription_When_stock_update_repeats_in_stock_or_restocks_again_Then_only_one_notification_per_restock()
    {
        var p = Product(inStock: false, T0.AddDays(-1));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Subscribed, "sub-1", T0, null));

        var first = ProductCatalog.OnUpdate(p, Stock(true, T0.AddDays(1)), Lookback);
        var repeated = ProductCatalog.OnUpdate(p, Stock(true, T0.AddDays(2)), Lookback);
        ProductCatalog.OnUpdate(p, Stock(false, T0.AddDays(3)), Lookback);
        var restockedAgain = ProductCatalog.OnUpdate(p, Stock(true, T0.AddDays(4)), Lookback);

        Assert.Single(first);
        Assert.Empty(repeated);
        Assert.Empty(restockedAgain);
    }

    [Fact]
    public void Given_subscription_When_customer_bought_it_meanwhile_Then_no_back_in_stock()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Subscribed("sub-1", T0), Order("ord-1", T0.AddDays(1), "o-1", null, Line("sku-1")));

        var decisions = Play(s, ctx, BackInStock("bis-1", T0.AddDays(2), T0));

        Assert.DoesNotContain(decisions, d => d.Scenario == ScenarioName.BackInStock);
    }

    [Fact]
    public void Given_subscription_When_customer_said_already_purchased_Then_no_back_in_stock()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Subscribed("sub-1", T0), Feedback("fb-1", T0.AddDays(1), "sku-1", "already_purchased"));

        Assert.Empty(Play(s, ctx, BackInStock("bis-1", T0.AddDays(2), T0)));
    }

    [Fact]
    public void Given_order_before_the_subscription_When_restocked_Then_back_in_stock_still_fires()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Order("ord-1", T0.AddDays(-10), "o-1", null, Line("sku-1")), Subscribed("sub-1", T0));

        var d = Assert.Single(Play(s, ctx, BackInStock("bis-1", T0.AddDays(2), T0)));

        Assert.Equal(ScenarioName.BackInStock, d.Scenario);
    }

    [Fact]
    public void Given_two_restocks_When_each_notifies_the_customer_Then_two_distinct_decisions()
    {
        var s = Customer();
        var ctx = Context();

        var first = Assert.Single(Play(s, ctx, BackInStock("bis-1", T0.AddDays(2), T0)));
        var second = Assert.Single(Play(s, ctx, BackInStock("bis-2", T0.AddDays(10), T0.AddDays(5), evidence: "sub-2")));

        Assert.NotEqual(first.DecisionId, second.DecisionId);
        Assert.Equal(Outcome.Sent, second.Outcome);
        Assert.Equal(["sub-2"], second.BasedOn);
    }

    [Fact]
    public void Given_subscription_When_customer_said_not_interested_Then_back_in_stock_still_fires_as_only_a_purchase_exits()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Subscribed("sub-1", T0), Feedback("fb-1", T0.AddDays(1), "sku-1", "not_interested"));

        var d = Assert.Single(Play(s, ctx, BackInStock("bis-1", T0.AddDays(2), T0)));

        Assert.Equal(ScenarioName.BackInStock, d.Scenario);
    }

    [Fact]
    public void Given_a_purchase_then_a_new_subscription_When_restocked_Then_the_new_wait_is_notified()
    {
        var p = Product(inStock: false, T0.AddDays(-1));
        var s = Customer();
        var ctx = Context();
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Subscribed, "sub-1", T0, null));
        Play(s, ctx, Subscribed("sub-1", T0), Order("o-1", T0.AddHours(1), "o1", null, Line()));
        ProductCatalog.OnInterest(p, new InterestShown(CustomerId, InterestKind.Subscribed, "sub-2", T0.AddDays(1), null));
        Play(s, ctx, Subscribed("sub-2", T0.AddDays(1)));

        var (_, note) = Assert.Single(ProductCatalog.OnUpdate(p, Stock(true, T0.AddDays(2)), Lookback));
        var d = Assert.Single(Play(s, ctx, note));

        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Contains("sub-2", d.BasedOn);
    }
}
