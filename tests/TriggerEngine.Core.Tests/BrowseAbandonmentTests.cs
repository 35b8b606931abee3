using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

public sealed class BrowseAbandonmentTests
{
    private static readonly TimeSpan Quiet = ScenarioRules.Default.BrowseAbandonment.QuietPeriod;

    private static CustomerEvent[] ThreeViews(DateTimeOffset from, string productId = "sku-1", string prefix = "view") =>
    [
        Viewed($"{prefix}-1", from, productId),
        Viewed($"{prefix}-2", from.AddMinutes(1), productId),
        Viewed($"{prefix}-3", from.AddMinutes(2), productId),
    ];

    [Fact]
    public void Given_three_views_of_a_product_When_quiet_period_passes_Then_browse_abandonment_sent_with_the_views()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, ThreeViews(T0));

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddMinutes(2) + Quiet, ctx).Decisions);

        Assert.Equal(ScenarioName.BrowseAbandonment, d.Scenario);
        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("promotions", d.Purpose);
        Assert.Equal(40, d.Priority);
        Assert.Equal("email", d.Channel);
        Assert.Equal(T0.AddMinutes(2) + Quiet, d.FiredAt);
        Assert.Equal(["view-1", "view-2", "view-3"], d.BasedOn);
        Assert.Equal("You viewed sku-1 3 times and did not add it to your cart", d.Reason);
        Assert.Equal(3, d.Payload["views"]);
        Assert.Equal("sku-1", Product(d)["product_id"]);
        Assert.Equal(20m, Product(d)["price"]);
    }

    [Fact]
    public void Given_three_views_When_advanced_one_tick_before_quiet_period_ends_Then_nothing_fires()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, ThreeViews(T0));

        var step = CustomerJourney.AdvanceTo(s, T0.AddMinutes(2) + Quiet - TimeSpan.FromTicks(1), ctx);

        Assert.Empty(step.Decisions);
        Assert.Equal(T0.AddMinutes(2) + Quiet, step.NextDue);
    }

    [Fact]
    public void Given_two_short_views_When_time_passes_Then_threshold_not_met_and_nothing_fires()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Viewed("view-1", T0, durationMs: 60_000), Viewed("view-2", T0.AddMinutes(1), durationMs: 60_000));

        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(8), ctx);

        Assert.Empty(step.Decisions);
        Assert.Null(step.NextDue);
    }

    [Fact]
    public void Given_two_views_totalling_the_minimum_dwell_When_quiet_period_passes_Then_fires_citing_the_time_spent()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Viewed("view-1", T0, durationMs: 3_600_000), Viewed("view-2", T0.AddHours(2), durationMs: 3_600_000));

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddHours(2) + Quiet, ctx).Decisions);

        Assert.Equal(ScenarioName.BrowseAbandonment, d.Scenario);
        Assert.Equal("You spent 2 hours looking at sku-1 and did not add it to your cart", d.Reason);
        Assert.Equal(["view-1", "view-2"], d.BasedOn);
    }

    [Fact]
    public void Given_two_views_just_under_the_minimum_dwell_When_time_passes_Then_nothing_fires()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Viewed("view-1", T0, durationMs: 3_600_000), Viewed("view-2", T0.AddHours(2), durationMs: 3_599_999));

        Assert.Empty(CustomerJourney.AdvanceTo(s, T0.AddDays(1), ctx).Decisions);
    }

    [Fact]
    public void Given_threshold_met_When_another_view_arrives_in_the_quiet_period_Then_the_quiet_period_restarts()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, ThreeViews(T0));
        Play(s, ctx, Viewed("view-4", T0.AddMinutes(40)));

        Assert.Empty(CustomerJourney.AdvanceTo(s, T0.AddMinutes(2) + Quiet, ctx).Decisions);
        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddMinutes(40) + Quiet, ctx).Decisions);

        Assert.Equal(4, d.Payload["views"]);
        Assert.Equal(T0.AddMinutes(40) + Quiet, d.FiredAt);
    }

    [Fact]
    public void Given_threshold_met_When_product_added_to_cart_Then_no_browse_abandonment()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, ThreeViews(T0));
        Play(s, ctx, Added("add-1", T0.AddMinutes(10)));

        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(2), ctx);

        Assert.DoesNotContain(step.Decisions, d => d.Scenario == ScenarioName.BrowseAbandonment);
    }

    [Fact]
    public void Given_threshold_met_When_product_ordered_Then_no_browse_abandonment()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, ThreeViews(T0));
        Play(s, ctx, Order("ord-1", T0.AddMinutes(10), "o-1", null, Line("sku-1")));

        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(2), ctx);

        Assert.Empty(step.Decisions);
    }

    [Fact]
    public void Given_threshold_met_When_a_different_product_is_ordered_Then_browse_abandonment_still_fires()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, ThreeViews(T0));
        Play(s, ctx, Order("ord-1", T0.AddMinutes(10), "o-1", null, Line("sku-2")));

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddDays(2), ctx).Decisions);

        Assert.Equal(ScenarioName.BrowseAbandonment, d.Scenario);
    }

    [Fact]
    public void Given_views_spread_over_more_than_the_window_When_time_passes_Then_only_views_inside_the_window_count()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Viewed("view-1", T0), Viewed("view-2", T0.AddDays(4)), Viewed("view-3", T0.AddDays(8)));

        Assert.Empty(CustomerJourney.AdvanceTo(s, T0.AddDays(8) + Quiet, ctx).Decisions);
        Play(s, ctx, Viewed("view-4", T0.AddDays(9)));
        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddDays(9) + Quiet, ctx).Decisions);

        Assert.Equal(["view-2", "view-3", "view-4"], d.BasedOn);
    }

    [Fact]
    public void Given_browse_abandonment_fired_When_product_viewed_again_within_30_days_Then_it_does_not_fire_again()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, ThreeViews(T0));
        Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddMinutes(2) + Quiet, ctx).Decisions);

        Play(s, ctx, ThreeViews(T0.AddDays(5), prefix: "again"));
        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(29), ctx);

        Assert.Empty(step.Decisions);
        Assert.Null(step.NextDue);
    }

    [Fact]
    public void Given_browse_abandonment_fired_When_product_viewed_again_after_30_days_Then_it_fires_again()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, ThreeViews(T0));
        var first = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddMinutes(2) + Quiet, ctx).Decisions);
        var repeatFrom = first.FiredAt + ScenarioRules.Default.BrowseAbandonment.RepeatAfter;

        Play(s, ctx, ThreeViews(repeatFrom, prefix: "again"));
        var second = Assert.Single(CustomerJourney.AdvanceTo(s, repeatFrom.AddMinutes(2) + Quiet, ctx).Decisions);

        Assert.Equal(Outcome.Sent, second.Outcome);
        Assert.Equal(["again-1", "again-2", "again-3"], second.BasedOn);
        Assert.NotEqual(first.DecisionId, second.DecisionId);
    }

    [Fact]
    public void Given_three_views_spread_over_two_products_When_time_passes_Then_nothing_fires()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Viewed("view-1", T0, "sku-1"), Viewed("view-2", T0.AddMinutes(1), "sku-2"),
            Viewed("view-3", T0.AddMinutes(2), "sku-1"));

        Assert.Empty(CustomerJourney.AdvanceTo(s, T0.AddDays(1), ctx).Decisions);
    }
}
