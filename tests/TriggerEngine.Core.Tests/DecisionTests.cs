using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

/// <summary>SPEC 5: decision records are deterministic, explained and backed by evidence.</summary>
public sealed class DecisionTests
{
    /// <summary>A month and a half of one customer's life touching every scenario, under the default policy.</summary>
    private static List<TriggerDecision> Timeline(string customerId = CustomerId)
    {
        var s = Customer(customerId);
        var ctx = DefaultWindowContext();
        var decisions = Play(s, ctx,
            SignedUp("su-1", T0),
            Added("add-1", T0.AddHours(1), productId: "sku-1"),
            Viewed("view-1", T0.AddHours(2), "sku-2"),
            Viewed("view-2", T0.AddHours(2).AddMinutes(1), "sku-2"),
            Viewed("view-3", T0.AddHours(2).AddMinutes(2), "sku-2"),
            Order("ord-1", T0.AddDays(1), "o-1", null, Line("vitamins", 1, category: "health", consumptionDays: 5)),
            PriceDropped("pd-1", T0.AddDays(2), 80m, 100m, T0.AddDays(1), "sku-3", "view-9"),
            BackInStock("bis-1", T0.AddDays(4), T0.AddDays(3), "sku-4", "sub-4"),
            Order("ord-2", T0.AddDays(11), "o-2", null, Line("vitamins", 1, category: "health", consumptionDays: 5)),
            Order("ord-3", T0.AddDays(21), "o-3", null, Line("vitamins", 1, category: "health", consumptionDays: 5)));
        decisions.AddRange(CustomerJourney.AdvanceTo(s, T0.AddDays(45), ctx).Decisions);
        return decisions;
    }

    [Fact]
    public void Given_the_same_events_When_replayed_on_a_fresh_state_Then_the_decision_lists_are_identical()
    {
        var first = Timeline().Select(Json).ToList();
        var second = Timeline().Select(Json).ToList();

        Assert.NotEmpty(first);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Given_a_timeline_touching_every_scenario_When_replayed_Then_every_scenario_is_decided()
    {
        var decisions = Timeline();

        Assert.Equal(ScenarioName.All.OrderBy(x => x), decisions.Select(d => d.Scenario).Distinct().OrderBy(x => x));
    }

    [Fact]
    public void Given_any_decision_When_recorded_Then_basedOn_is_never_empty_and_the_reason_is_readable()
    {
        var decisions = Timeline();

        Assert.All(decisions, d =>
        {
            Assert.NotEmpty(d.BasedOn);
            Assert.All(d.BasedOn, id => Assert.False(string.IsNullOrWhiteSpace(id)));
            Assert.False(string.IsNullOrWhiteSpace(d.Reason));
            Assert.Equal(CustomerId, d.CustomerId);
            Assert.Equal(ScenarioRules.Default.CommonOf(d.Scenario).Purpose, d.Purpose);
            Assert.Equal(ScenarioRules.Default.CommonOf(d.Scenario).Priority, d.Priority);
        });
    }

    [Fact]
    public void Given_any_fired_scenario_When_decided_Then_exactly_one_final_record_per_decision_id()
    {
        var decisions = Timeline();

        Assert.All(decisions.GroupBy(d => d.DecisionId), g => Assert.Single(g, d => d.IsFinal));
    }

    [Fact]
    public void Given_suppressed_or_sent_decisions_When_recorded_Then_suppressedBy_is_set_exactly_on_suppressions()
    {
        var decisions = Timeline();

        Assert.Contains(decisions, d => d.Outcome == Outcome.Suppressed);
        Assert.Contains(decisions, d => d.Outcome == Outcome.Sent);
        Assert.All(decisions, d => Assert.Equal(d.Outcome == Outcome.Suppressed, d.SuppressedBy is not null));
        Assert.All(decisions.Where(d => d.Outcome == Outcome.Suppressed), d => Assert.Contains("not sent:", d.Reason));
        Assert.All(decisions.Where(d => d.Outcome == Outcome.Sent), d => Assert.NotNull(d.Channel));
    }

    [Fact]
    public void Given_event_clock_mode_When_decided_after_the_window_Then_decidedAt_is_firedAt_plus_the_window()
    {
        var decisions = Timeline();

        Assert.All(decisions, d => Assert.Equal(d.FiredAt + PolicyRulesWindow, d.DecidedAt));
    }

    private static readonly TimeSpan PolicyRulesWindow = Policy.PolicyRules.Default.ArbitrationWindow;

    [Fact]
    public void Given_another_customer_with_the_same_events_When_replayed_Then_the_decision_ids_differ()
    {
        var mine = Timeline("cust-1").Select(d => d.DecisionId);
        var theirs = Timeline("cust-2").Select(d => d.DecisionId);

        Assert.Empty(mine.Intersect(theirs));
    }

    [Fact]
    public void Given_the_same_inputs_When_computing_a_decision_id_Then_it_is_stable_and_shaped_like_a_uuid()
    {
        var a = DecisionIds.For("cust-1", ScenarioName.AbandonedCart, "cart-1#1", T0);
        var b = DecisionIds.For("cust-1", ScenarioName.AbandonedCart, "cart-1#1", T0.ToOffset(TimeSpan.FromHours(2)));

        Assert.Equal(a, b);
        Assert.True(Guid.TryParse(a, out _));
        Assert.Equal('8', a[14]);
        Assert.NotEqual(a, DecisionIds.For("cust-1", ScenarioName.AbandonedCart, "cart-1#2", T0));
        Assert.NotEqual(a, DecisionIds.For("cust-1", ScenarioName.AbandonedCart, "cart-1#1", T0.AddTicks(1)));
        Assert.NotEqual(a, DecisionIds.For("cust-1", ScenarioName.Welcome, "cart-1#1", T0));
    }

    [Fact]
    public void Given_wall_clock_mode_When_a_trigger_is_decided_Then_decidedAt_is_the_wall_clock()
    {
        var s = Customer();
        var wall = T0.AddMinutes(45);
        var ctx = Context() with { WallNow = wall };
        Play(s, Context(), Added("add-1", T0));

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, wall, ctx).Decisions);

        Assert.Equal(T0.AddMinutes(30), d.FiredAt);
        Assert.Equal(wall, d.DecidedAt);
    }

    [Fact]
    public void Given_decisions_made_When_looking_at_the_state_Then_the_customer_keeps_them_in_order_for_explain()
    {
        var s = Customer();
        var ctx = Context();
        var returned = Play(s, ctx, SignedUp("su-1", T0), Added("add-1", T0.AddHours(5)));
        returned.AddRange(CustomerJourney.AdvanceTo(s, T0.AddDays(1), ctx).Decisions);

        Assert.Equal(returned.Select(d => d.DecisionId), s.Decisions.Select(d => d.DecisionId));
        Assert.Equal([ScenarioName.Welcome, ScenarioName.AbandonedCart], s.Decisions.Select(d => d.Scenario));
    }
}
