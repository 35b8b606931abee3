using TriggerEngine.Core.Events;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

public sealed class AbandonedCartTests
{
    private static readonly TimeSpan Delay = ScenarioRules.Default.AbandonedCart.Delay;

    [Fact]
    public void Given_item_added_When_cart_idle_for_delay_Then_abandoned_cart_sent_by_email_with_evidence()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0, price: 25m));

        var step = CustomerJourney.AdvanceTo(s, T0 + Delay, ctx);

        var d = Assert.Single(step.Decisions);
        Assert.Equal(ScenarioName.AbandonedCart, d.Scenario);
        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Null(d.SuppressedBy);
        Assert.Equal("email", d.Channel);
        Assert.Equal("cart_reminders", d.Purpose);
        Assert.Equal(80, d.Priority);
        Assert.Equal(CustomerId, d.CustomerId);
        Assert.Equal(T0 + Delay, d.FiredAt);
        Assert.Equal(T0 + Delay, d.DecidedAt);
        Assert.Equal(["add-1"], d.BasedOn);
        Assert.Equal("You left 1 item in your cart 30 minutes ago", d.Reason);
        Assert.Equal("cart-1", d.Payload["cart_id"]);
        Assert.Equal(1, d.Payload["reminder"]);
    }

    [Fact]
    public void Given_item_added_When_advanced_one_tick_before_delay_Then_nothing_fires_and_next_due_is_the_delay()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0));

        var step = CustomerJourney.AdvanceTo(s, T0 + Delay - TimeSpan.FromTicks(1), ctx);

        Assert.Empty(step.Decisions);
        Assert.Equal(T0 + Delay, step.NextDue);
    }

    [Fact]
    public void Given_item_added_When_handled_Then_next_due_is_added_time_plus_delay()
    {
        var s = Customer();

        var step = CustomerJourney.Handle(s, Added("add-1", T0), Context());

        Assert.Empty(step.Decisions);
        Assert.False(step.Duplicate);
        Assert.Equal(T0 + Delay, step.NextDue);
    }

    [Fact]
    public void Given_open_cart_When_cart_changes_before_delay_Then_timer_restarts_from_the_change()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0), Added("add-2", T0.AddMinutes(20), productId: "sku-2", quantity: 2));

        Assert.Empty(CustomerJourney.AdvanceTo(s, T0 + Delay, ctx).Decisions);
        var step = CustomerJourney.AdvanceTo(s, T0.AddMinutes(20) + Delay, ctx);

        var d = Assert.Single(step.Decisions);
        Assert.Equal(T0.AddMinutes(20) + Delay, d.FiredAt);
        Assert.Equal(["add-1", "add-2"], d.BasedOn);
        Assert.Equal("You left 3 items in your cart 30 minutes ago", d.Reason);
        var items = Assert.IsAssignableFrom<IEnumerable<Dictionary<string, object?>>>(d.Payload["items"]).ToArray();
        Assert.Equal(["sku-1", "sku-2"], items.Select(i => (string)i["product_id"]!));
    }

    [Fact]
    public void Given_open_cart_When_order_of_that_cart_completes_Then_no_reminder()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0), Order("ord-1", T0.AddMinutes(10), "o-1", "cart-1", Line()));

        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(3), ctx);

        Assert.DoesNotContain(step.Decisions, d => d.Scenario == ScenarioName.AbandonedCart);
        Assert.Empty(s.Carts);
    }

    [Fact]
    public void Given_open_cart_When_order_names_another_cart_Then_this_cart_still_fires()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0), Order("ord-1", T0.AddMinutes(10), "o-1", "cart-other", Line("sku-9")));

        var step = CustomerJourney.AdvanceTo(s, T0 + Delay, ctx);

        var d = Assert.Single(step.Decisions);
        Assert.Equal(ScenarioName.AbandonedCart, d.Scenario);
        Assert.Equal("cart-1", d.Payload["cart_id"]);
    }

    [Fact]
    public void Given_two_open_carts_When_order_names_no_cart_Then_neither_fires()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0), Added("add-2", T0.AddMinutes(1), cartId: "cart-2"),
            Order("ord-1", T0.AddMinutes(10), "o-1", null, Line()));

        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(1), ctx);

        Assert.Empty(step.Decisions);
        Assert.Null(step.NextDue);
    }

    [Fact]
    public void Given_open_cart_When_emptied_Then_no_reminder()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0, quantity: 2), Removed("rem-1", T0.AddMinutes(5)));

        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(1), ctx);

        Assert.Empty(step.Decisions);
        Assert.Null(step.NextDue);
    }

    [Fact]
    public void Given_two_items_When_one_removed_Then_reminder_counts_the_item_left_and_cites_the_removal()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0, quantity: 2), Removed("rem-1", T0.AddMinutes(5), quantity: 1));

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddMinutes(5) + Delay, ctx).Decisions);

        Assert.Equal("You left 1 item in your cart 30 minutes ago", d.Reason);
        Assert.Equal(["add-1", "rem-1"], d.BasedOn);
    }

    [Fact]
    public void Given_emptied_cart_When_refilled_Then_a_new_instance_fires_from_the_refill()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0), Removed("rem-1", T0.AddMinutes(5)), Added("add-2", T0.AddMinutes(40)));

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddDays(1), ctx).Decisions);

        Assert.Equal(T0.AddMinutes(40) + Delay, d.FiredAt);
        Assert.Equal(["add-2"], d.BasedOn);
    }

    [Fact]
    public void Given_reminded_cart_When_time_passes_and_cart_changes_Then_it_never_fires_again_without_follow_up()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0));
        Assert.Single(CustomerJourney.AdvanceTo(s, T0 + Delay, ctx).Decisions);

        var later = Play(s, ctx, Added("add-2", T0.AddDays(2)));
        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(10), ctx);

        Assert.Empty(later);
        Assert.Empty(step.Decisions);
        Assert.Null(step.NextDue);
    }

    [Fact]
    public void Given_follow_up_configured_When_it_elapses_after_first_reminder_Then_one_second_reminder_and_no_third()
    {
        var rules = ScenarioRules.Default with
        {
            AbandonedCart = ScenarioRules.Default.AbandonedCart with { FollowUp = TimeSpan.FromHours(24) },
        };
        var s = Customer();
        var ctx = Context(scenarios: rules);
        Play(s, ctx, Added("add-1", T0));
        var first = Assert.Single(CustomerJourney.AdvanceTo(s, T0 + Delay, ctx).Decisions);

        Assert.Empty(CustomerJourney.AdvanceTo(s, T0 + Delay + TimeSpan.FromHours(24) - TimeSpan.FromTicks(1), ctx).Decisions);
        var second = Assert.Single(CustomerJourney.AdvanceTo(s, T0 + Delay + TimeSpan.FromHours(24), ctx).Decisions);
        var third = CustomerJourney.AdvanceTo(s, T0.AddDays(30), ctx);

        Assert.Equal(Outcome.Sent, second.Outcome);
        Assert.Equal(2, second.Payload["reminder"]);
        Assert.Equal(T0 + Delay + TimeSpan.FromHours(24), second.FiredAt);
        Assert.StartsWith("Reminder:", second.Reason);
        Assert.NotEqual(first.DecisionId, second.DecisionId);
        Assert.Empty(third.Decisions);
    }

    [Fact]
    public void Given_follow_up_configured_When_cart_ordered_after_first_reminder_Then_no_second_reminder()
    {
        var rules = ScenarioRules.Default with
        {
            AbandonedCart = ScenarioRules.Default.AbandonedCart with { FollowUp = TimeSpan.FromHours(24) },
        };
        var s = Customer();
        var ctx = Context(scenarios: rules);
        Play(s, ctx, Added("add-1", T0));
        Assert.Single(CustomerJourney.AdvanceTo(s, T0 + Delay, ctx).Decisions);

        Play(s, ctx, Order("ord-1", T0.AddHours(5), "o-1", "cart-1", Line()));
        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(3), ctx);

        Assert.Empty(step.Decisions);
    }

    [Fact]
    public void Given_follow_up_configured_When_cart_emptied_after_first_reminder_Then_no_second_reminder()
    {
        var rules = ScenarioRules.Default with
        {
            AbandonedCart = ScenarioRules.Default.AbandonedCart with { FollowUp = TimeSpan.FromHours(24) },
        };
        var s = Customer();
        var ctx = Context(scenarios: rules);
        Play(s, ctx, Added("add-1", T0));
        Assert.Single(CustomerJourney.AdvanceTo(s, T0 + Delay, ctx).Decisions);

        Play(s, ctx, Removed("rem-1", T0.AddHours(2)));
        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(3), ctx);

        Assert.Empty(step.Decisions);
    }

    [Fact]
    public void Given_no_cart_When_a_removal_names_an_unknown_cart_Then_nothing_is_opened()
    {
        var s = Customer();
        var ctx = Context();

        var step = CustomerJourney.Handle(s, Removed("rem-1", T0, cartId: "cart-x"), ctx);

        Assert.Empty(s.Carts);
        Assert.Null(step.NextDue);
    }

    [Fact]
    public void Given_open_cart_When_a_later_event_arrives_after_the_due_time_Then_the_reminder_fires_before_the_event_applies()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0));

        // An order arriving an hour later cannot undo a reminder that was already due at T0+30 min.
        var decisions = Play(s, ctx, Order("ord-1", T0.AddHours(1), "o-1", "cart-1", Line()));

        var d = Assert.Single(decisions);
        Assert.Equal(ScenarioName.AbandonedCart, d.Scenario);
        Assert.Equal(T0 + Delay, d.FiredAt);
    }

    [Fact]
    public void Given_time_already_advanced_When_a_late_cart_add_arrives_Then_its_already_due_reminder_fires_on_the_next_advance()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Viewed("view-0", T0.AddHours(2), "sku-9"));
        CustomerJourney.AdvanceTo(s, T0.AddHours(2), ctx);

        var late = CustomerJourney.Handle(s, Added("add-1", T0), ctx);
        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddHours(2), ctx).Decisions);

        Assert.Equal(T0 + Delay, late.NextDue);
        Assert.Equal(T0 + Delay, d.FiredAt);
        Assert.Equal(T0 + Delay, d.DecidedAt);
    }

    [Fact]
    public void Given_no_cart_event_When_checkout_started_lists_products_Then_the_cart_is_abandoned_after_the_delay()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, new CartViewed("co-1", T0, "Checkout Started", "cart-1", [new CartItem("sku-1", 2, 20m)]));

        Assert.Empty(CustomerJourney.AdvanceTo(s, T0.AddMinutes(30).AddTicks(-1), ctx).Decisions);
        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddMinutes(30), ctx).Decisions);

        Assert.Equal(ScenarioName.AbandonedCart, d.Scenario);
        Assert.Equal(["co-1"], d.BasedOn);
    }

    [Fact]
    public void Given_an_open_cart_When_the_cart_is_viewed_unchanged_Then_the_delay_does_not_restart()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("a-1", T0, quantity: 2),
            new CartViewed("cv-1", T0.AddMinutes(20), "Cart Viewed", "cart-1", [new CartItem("sku-1", 2, 20m)]));

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddMinutes(30), ctx).Decisions);

        Assert.Equal(T0.AddMinutes(30), d.FiredAt);
    }

    [Fact]
    public void Given_an_open_cart_When_checkout_lists_other_quantities_Then_that_is_a_change_and_the_delay_restarts()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("a-1", T0),
            new CartViewed("co-1", T0.AddMinutes(20), "Checkout Started", "cart-1", [new CartItem("sku-1", 3, 20m)]));

        Assert.Empty(CustomerJourney.AdvanceTo(s, T0.AddMinutes(49), ctx).Decisions);
        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddMinutes(50), ctx).Decisions);

        Assert.Equal(3, ((IEnumerable<Dictionary<string, object?>>)d.Payload["items"]!).Single()["quantity"]);
    }
}
