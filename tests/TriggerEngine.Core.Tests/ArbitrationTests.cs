using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

/// <summary>SPEC 4 arbitration: a fired trigger waits <c>arbitrationWindow</c> (1 min by default) for competitors.</summary>
public sealed class ArbitrationTests
{
    private static readonly TimeSpan Window = PolicyRules.Default.ArbitrationWindow;
    private static readonly DateTimeOffset CartFires = T0.AddMinutes(30);

    [Fact]
    public void Given_cart_reminder_fired_When_welcome_fires_inside_the_window_Then_welcome_wins_and_cart_is_suppressed_lower_priority()
    {
        var s = Customer();
        var ctx = DefaultWindowContext();
        Play(s, ctx, Added("add-1", T0));
        var during = Play(s, ctx, SignedUp("su-1", CartFires.AddSeconds(20)));

        var decisions = CustomerJourney.AdvanceTo(s, CartFires + Window, ctx).Decisions;

        Assert.Empty(during);
        Assert.Equal(2, decisions.Count);
        var cart = Assert.Single(decisions, d => d.Scenario == ScenarioName.AbandonedCart);
        var welcome = Assert.Single(decisions, d => d.Scenario == ScenarioName.Welcome);
        Assert.Equal(Outcome.Suppressed, cart.Outcome);
        Assert.Equal(SuppressedBy.LowerPriority, cart.SuppressedBy);
        Assert.Contains("welcome (priority 90)", cart.Reason);
        Assert.Equal(Outcome.Sent, welcome.Outcome);
        Assert.Equal(CartFires + Window, cart.DecidedAt);
        Assert.Equal(CartFires + Window, welcome.DecidedAt);
        Assert.Equal(CartFires, cart.FiredAt);
        Assert.Equal(CartFires.AddSeconds(20), welcome.FiredAt);
        Assert.True(cart.IsFinal);
    }

    [Fact]
    public void Given_an_open_window_When_an_hours_old_event_fires_a_trigger_Then_it_is_decided_alone_at_the_end_of_its_own_window()
    {
        var s = Customer();
        var ctx = DefaultWindowContext();
        Play(s, ctx, Added("add-1", T0));
        Assert.Empty(CustomerJourney.AdvanceTo(s, CartFires, ctx).Decisions); // the cart reminder waits in its window
        var signedUpLongAgo = T0.AddHours(-3);

        var late = Play(s, ctx, SignedUp("su-old", signedUpLongAgo));
        var closing = CustomerJourney.AdvanceTo(s, CartFires + Window, ctx).Decisions;

        var welcome = Assert.Single(late);
        Assert.Equal(ScenarioName.Welcome, welcome.Scenario);
        Assert.Equal(Outcome.Sent, welcome.Outcome);
        Assert.Equal(signedUpLongAgo + Window, welcome.DecidedAt);
        var cart = Assert.Single(closing);
        Assert.Equal(ScenarioName.AbandonedCart, cart.Scenario);
        Assert.NotEqual(SuppressedBy.LowerPriority, cart.SuppressedBy);
    }

    [Fact]
    public void Given_two_triggers_in_the_window_When_it_has_not_closed_yet_Then_nothing_is_decided()
    {
        var s = Customer();
        var ctx = DefaultWindowContext();
        Play(s, ctx, Added("add-1", T0), SignedUp("su-1", CartFires.AddSeconds(20)));

        var step = CustomerJourney.AdvanceTo(s, CartFires + Window - TimeSpan.FromTicks(1), ctx);

        Assert.Empty(step.Decisions);
        Assert.Equal(CartFires + Window, step.NextDue);
    }

    [Fact]
    public void Given_cart_and_browse_due_at_the_same_instant_When_the_window_closes_Then_higher_priority_cart_goes_to_policy()
    {
        var s = Customer();
        var ctx = DefaultWindowContext();
        var browseDue = T0.AddMinutes(2) + ScenarioRules.Default.BrowseAbandonment.QuietPeriod;
        Play(s, ctx, Viewed("view-1", T0), Viewed("view-2", T0.AddMinutes(1)), Viewed("view-3", T0.AddMinutes(2)),
            Added("add-1", browseDue - ScenarioRules.Default.AbandonedCart.Delay, productId: "sku-other"));

        var decisions = CustomerJourney.AdvanceTo(s, browseDue + Window, ctx).Decisions;

        Assert.Equal(2, decisions.Count);
        Assert.Equal(SuppressedBy.LowerPriority, Assert.Single(decisions, d => d.Scenario == ScenarioName.BrowseAbandonment).SuppressedBy);
        Assert.Equal(Outcome.Sent, Assert.Single(decisions, d => d.Scenario == ScenarioName.AbandonedCart).Outcome);
    }

    [Fact]
    public void Given_equal_priorities_When_both_fire_in_the_window_Then_the_earlier_one_wins()
    {
        var s = Customer();
        var ctx = DefaultWindowContext();
        Play(s, ctx, BackInStock("bis-1", T0, T0.AddDays(-1)), PriceDropped("pd-1", T0.AddSeconds(30), 50m, 100m, T0.AddDays(-2)));

        var decisions = CustomerJourney.AdvanceTo(s, T0 + Window, ctx).Decisions;

        Assert.Equal(Outcome.Sent, Assert.Single(decisions, d => d.Scenario == ScenarioName.BackInStock).Outcome);
        Assert.Equal(SuppressedBy.LowerPriority, Assert.Single(decisions, d => d.Scenario == ScenarioName.PriceDrop).SuppressedBy);
    }

    [Fact]
    public void Given_catalog_notifications_arriving_out_of_fired_order_When_the_windows_close_Then_the_decisions_are_those_of_fired_order()
    {
        // Two price drops and a restock from three catalog lines; product entities notify the customer in any order.
        var dropA = PriceDropped("pd-a", T0, 80m, 100m, T0.AddDays(-1), "sku-a", "view-a");
        var dropB = PriceDropped("pd-b", T0.AddSeconds(17), 80m, 100m, T0.AddDays(-1), "sku-b", "view-b");
        var restock = BackInStock("bis-c", T0.AddSeconds(69), T0.AddDays(-1), "sku-c", "sub-c");
        List<string> Run(params Events.CustomerEvent[] arrival)
        {
            var s = Customer();
            var ctx = DefaultWindowContext(Consented());
            var decisions = Play(s, ctx, arrival);
            decisions.AddRange(CustomerJourney.AdvanceTo(s, T0.AddMinutes(10), ctx).Decisions);
            return decisions.OrderBy(d => d.DecisionId, StringComparer.Ordinal).Select(Json).ToList();
        }

        var inOrder = Run(dropA, dropB, restock);

        Assert.Equal(3, inOrder.Count);
        // Every arrival order, including the restock (fired after the first window's end) before the second drop: a
        // notification does not move the customer's clock, so it cannot close the window the other one belongs to.
        Assert.Equal(inOrder, Run(dropA, restock, dropB));
        Assert.Equal(inOrder, Run(dropB, dropA, restock));
        Assert.Equal(inOrder, Run(dropB, restock, dropA));
        Assert.Equal(inOrder, Run(restock, dropA, dropB));
        Assert.Equal(inOrder, Run(restock, dropB, dropA));
        Assert.Contains(inOrder, d => d.Contains("\"lower_priority\"") && d.Contains("sku-b"));
        Assert.Contains(inOrder, d => d.Contains("\"frequency_cap\"") && d.Contains("sku-c"));
    }

    [Fact]
    public void Given_a_trigger_after_the_window_closed_When_it_fires_Then_it_opens_its_own_window()
    {
        var s = Customer();
        var ctx = DefaultWindowContext();
        Play(s, ctx, Added("add-1", T0));
        var first = CustomerJourney.AdvanceTo(s, CartFires + Window, ctx).Decisions;

        var late = CartFires + Window + TimeSpan.FromSeconds(1);
        Assert.Empty(Play(s, ctx, SignedUp("su-1", late)));
        var second = CustomerJourney.AdvanceTo(s, late + Window, ctx).Decisions;

        Assert.Equal(Outcome.Sent, Assert.Single(first).Outcome);
        var welcome = Assert.Single(second);
        Assert.Equal(late + Window, welcome.DecidedAt);
        Assert.NotEqual(SuppressedBy.LowerPriority, welcome.SuppressedBy);
    }

    [Fact]
    public void Given_zero_arbitration_window_When_two_triggers_fire_together_Then_each_is_decided_at_once_by_the_policy()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0));

        // The event at the due instant is applied first; the timer due at that same instant fires next.
        var onEvent = Play(s, ctx, SignedUp("su-1", CartFires));
        var onTimer = CustomerJourney.AdvanceTo(s, CartFires, ctx).Decisions;
        var decisions = onEvent.Concat(onTimer).ToList();

        Assert.Equal(2, decisions.Count);
        Assert.Equal(ScenarioName.Welcome, Assert.Single(onEvent).Scenario);
        Assert.Equal(Outcome.Sent, decisions[0].Outcome);
        Assert.Equal(ScenarioName.AbandonedCart, Assert.Single(onTimer).Scenario);
        Assert.Equal(SuppressedBy.FrequencyCap, decisions[1].SuppressedBy);
        Assert.DoesNotContain(decisions, d => d.SuppressedBy == SuppressedBy.LowerPriority);
        Assert.All(decisions, d => Assert.Equal(d.FiredAt, d.DecidedAt));
    }

    [Fact]
    public void Given_default_window_When_a_single_trigger_fires_Then_decided_at_fired_at_plus_window()
    {
        var s = Customer();
        var ctx = DefaultWindowContext();
        Play(s, ctx, Added("add-1", T0));

        var fired = CustomerJourney.AdvanceTo(s, CartFires, ctx);
        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddDays(1), ctx).Decisions);

        Assert.Empty(fired.Decisions);
        Assert.Equal(CartFires + Window, fired.NextDue);
        Assert.Equal(CartFires, d.FiredAt);
        Assert.Equal(CartFires + Window, d.DecidedAt);
        Assert.Equal(Outcome.Sent, d.Outcome);
    }
}
