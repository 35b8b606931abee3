using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

public sealed class ReorderDelayTests
{
    private static readonly double Grace = ScenarioRules.Default.ReorderDelay.GraceFactor;

    /// <summary>Three orders ten days apart: usual gap 10 d, so due 12 d after the last one.</summary>
    private static CustomerState ThreeOrders(JourneyContext ctx)
    {
        var s = Customer();
        Play(s, ctx,
            Order("ord-1", T0, "o-1", null, Line("coffee", 2, category: "coffee"), Line("mug", 1, category: "kitchen")),
            Order("ord-2", T0.AddDays(10), "o-2", null, Line("coffee", 1, category: "coffee")),
            Order("ord-3", T0.AddDays(20), "o-3", null, Line("tea", 1, category: "tea")));
        return s;
    }

    private static readonly DateTimeOffset Due = T0.AddDays(20) + TimeSpan.FromDays(10) * Grace;

    [Fact]
    public void Given_three_orders_ten_days_apart_When_gap_times_grace_passes_Then_reorder_delay_sent_with_favourite_category()
    {
        var ctx = Context();
        var s = ThreeOrders(ctx);

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, Due, ctx).Decisions);

        Assert.Equal(T0.AddDays(32), Due);
        Assert.Equal(ScenarioName.ReorderDelay, d.Scenario);
        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("email", d.Channel);
        Assert.Equal("promotions", d.Purpose);
        Assert.Equal(30, d.Priority);
        Assert.Equal(Due, d.FiredAt);
        Assert.Equal(["ord-1", "ord-2", "ord-3"], d.BasedOn);
        Assert.Equal("coffee", d.Payload["favourite_category"]);
        Assert.Equal("o-3", d.Payload["last_order_id"]);
        Assert.Equal(10.0, d.Payload["usual_gap_days"]);
        Assert.Equal("You usually order every 10 days; your last order was 12 days ago", d.Reason);
    }

    [Fact]
    public void Given_three_orders_When_advanced_one_tick_before_due_Then_nothing_fires()
    {
        var ctx = Context();
        var s = ThreeOrders(ctx);

        var step = CustomerJourney.AdvanceTo(s, Due - TimeSpan.FromTicks(1), ctx);

        Assert.Empty(step.Decisions);
        Assert.Equal(Due, step.NextDue);
    }

    [Fact]
    public void Given_only_two_orders_When_a_long_time_passes_Then_nothing_fires()
    {
        var ctx = Context();
        var s = Customer();
        Play(s, ctx, Order("ord-1", T0, "o-1", null, Line()), Order("ord-2", T0.AddDays(10), "o-2", null, Line()));

        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(365), ctx);

        Assert.Empty(step.Decisions);
        Assert.Null(step.NextDue);
    }

    [Fact]
    public void Given_three_orders_When_a_new_order_arrives_before_due_Then_no_reminder_at_the_old_due_time()
    {
        var ctx = Context();
        var s = ThreeOrders(ctx);
        Play(s, ctx, Order("ord-4", T0.AddDays(31), "o-4", null, Line("coffee")));

        var step = CustomerJourney.AdvanceTo(s, Due, ctx);

        Assert.Empty(step.Decisions);
        // Gaps 10, 10, 11: median 10 d, so the next cycle is due 12 d after the new order.
        Assert.Equal(T0.AddDays(43), step.NextDue);
    }

    [Fact]
    public void Given_reorder_delay_fired_When_no_new_order_Then_it_fires_once_per_cycle()
    {
        var ctx = Context();
        var s = ThreeOrders(ctx);
        Assert.Single(CustomerJourney.AdvanceTo(s, Due, ctx).Decisions);

        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(365), ctx);

        Assert.Empty(step.Decisions);
        Assert.Null(step.NextDue);
    }

    [Fact]
    public void Given_reorder_delay_fired_When_a_new_order_starts_the_next_cycle_Then_it_fires_again_for_that_cycle()
    {
        var ctx = Context();
        var s = ThreeOrders(ctx);
        Assert.Single(CustomerJourney.AdvanceTo(s, Due, ctx).Decisions);
        Play(s, ctx, Order("ord-4", T0.AddDays(40), "o-4", null, Line("tea", category: "tea")));

        var next = T0.AddDays(40) + TimeSpan.FromDays(10) * Grace;
        var d = Assert.Single(CustomerJourney.AdvanceTo(s, next, ctx).Decisions);

        Assert.Equal("o-4", d.Payload["last_order_id"]);
        Assert.Equal(Outcome.Sent, d.Outcome);
    }

    [Fact]
    public void Given_four_orders_with_uneven_gaps_When_due_Then_the_usual_gap_is_the_median()
    {
        var ctx = Context();
        var s = Customer();
        Play(s, ctx,
            Order("ord-1", T0, "o-1", null, Line()),
            Order("ord-2", T0.AddDays(5), "o-2", null, Line()),
            Order("ord-3", T0.AddDays(15), "o-3", null, Line()),
            Order("ord-4", T0.AddDays(35), "o-4", null, Line()));

        var due = T0.AddDays(35) + TimeSpan.FromDays(10) * Grace;

        Assert.Equal(due, CustomerJourney.NextDue(s, ctx));
        Assert.Empty(CustomerJourney.AdvanceTo(s, due - TimeSpan.FromTicks(1), ctx).Decisions);
        Assert.Single(CustomerJourney.AdvanceTo(s, due, ctx).Decisions);
    }

    [Fact]
    public void Given_two_orders_When_the_same_order_id_arrives_again_with_a_new_message_Then_it_is_not_a_third_order()
    {
        var ctx = Context();
        var s = Customer();
        Play(s, ctx,
            Order("ord-1", T0, "o-1", null, Line()),
            Order("ord-2", T0.AddDays(10), "o-2", null, Line()),
            Order("ord-2-resent", T0.AddDays(20), "o-2", null, Line()));

        Assert.Equal(2, s.Orders.Recent.Count);
        Assert.Null(CustomerJourney.NextDue(s, ctx));
    }
}
