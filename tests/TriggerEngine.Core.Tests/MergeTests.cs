using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

/// <summary>SPEC 2: identify with anonymousId and userId merges the anonymous profile into the known customer.</summary>
public sealed class MergeTests
{
    private static readonly string AnonId = CustomerIds.Anonymous("a-1");

    [Fact]
    public void Given_anonymous_visitor_When_events_arrive_Then_the_profile_keeps_them_for_a_later_merge()
    {
        var anon = Customer(AnonId);
        var known = Customer();
        var ctx = Context();

        Play(anon, ctx, Added("add-1", T0), Viewed("view-1", T0.AddMinutes(1)));
        Play(known, ctx, Added("add-9", T0));

        Assert.Equal(["add-1", "view-1"], anon.AnonymousEvents.Select(e => e.MessageId));
        Assert.Empty(known.AnonymousEvents);
        Assert.True(CustomerIds.IsAnonymous(AnonId));
        Assert.False(CustomerIds.IsAnonymous(CustomerId));
    }

    [Fact]
    public void Given_anonymous_cart_When_absorbed_by_the_known_customer_Then_the_cart_reminder_is_the_known_customers()
    {
        var anon = Customer(AnonId);
        var known = Customer();
        var ctx = Context();
        Play(anon, ctx, Added("add-1", T0));

        var absorbed = CustomerJourney.Absorb(known, anon.AnonymousEvents, ctx);
        var d = Assert.Single(CustomerJourney.AdvanceTo(known, T0.AddMinutes(30), ctx).Decisions);

        Assert.Empty(absorbed.Decisions);
        Assert.Equal(T0.AddMinutes(30), absorbed.NextDue);
        Assert.True(known.Exists);
        Assert.Equal(CustomerId, d.CustomerId);
        Assert.Equal(ScenarioName.AbandonedCart, d.Scenario);
        Assert.Equal(["add-1"], d.BasedOn);
    }

    [Fact]
    public void Given_absorbed_anonymous_cart_When_the_known_customer_adds_to_the_same_cart_Then_one_reminder_covers_both()
    {
        var anon = Customer(AnonId);
        var known = Customer();
        var ctx = Context();
        Play(anon, ctx, Added("add-1", T0));
        CustomerJourney.Absorb(known, anon.AnonymousEvents, ctx);

        Play(known, ctx, Added("add-2", T0.AddMinutes(10), productId: "sku-2"));
        var decisions = CustomerJourney.AdvanceTo(known, T0.AddDays(1), ctx).Decisions;

        var d = Assert.Single(decisions);
        Assert.Equal(T0.AddMinutes(40), d.FiredAt);
        Assert.Equal(["add-1", "add-2"], d.BasedOn);
        Assert.Equal("You left 2 items in your cart 30 minutes ago", d.Reason);
    }

    [Fact]
    public void Given_absorbed_anonymous_cart_When_the_known_customer_orders_it_Then_no_reminder()
    {
        var anon = Customer(AnonId);
        var known = Customer();
        var ctx = Context();
        Play(anon, ctx, Added("add-1", T0));
        CustomerJourney.Absorb(known, anon.AnonymousEvents, ctx);

        Play(known, ctx, Order("ord-1", T0.AddMinutes(15), "o-1", "cart-1", Line()));

        Assert.Empty(CustomerJourney.AdvanceTo(known, T0.AddDays(1), ctx).Decisions);
    }

    [Fact]
    public void Given_anonymous_events_already_absorbed_When_absorbed_again_Then_nothing_changes()
    {
        var anon = Customer(AnonId);
        var known = Customer();
        var ctx = Context();
        Play(anon, ctx, Added("add-1", T0));
        CustomerJourney.Absorb(known, anon.AnonymousEvents, ctx);

        CustomerJourney.Absorb(known, anon.AnonymousEvents, ctx);

        Assert.Equal(1, known.Carts["cart-1"].ItemCount);
        Assert.Single(CustomerJourney.AdvanceTo(known, T0.AddDays(1), ctx).Decisions);
    }

    [Fact]
    public void Given_anonymous_views_When_absorbed_and_the_known_customer_views_again_Then_all_views_count_toward_browse()
    {
        var anon = Customer(AnonId);
        var known = Customer();
        var ctx = Context();
        Play(anon, ctx, Viewed("view-2", T0.AddMinutes(1)), Viewed("view-1", T0));
        CustomerJourney.Absorb(known, anon.AnonymousEvents, ctx);

        Play(known, ctx, Viewed("view-3", T0.AddMinutes(5)));
        var d = Assert.Single(CustomerJourney.AdvanceTo(known, T0.AddDays(1), ctx).Decisions);

        Assert.Equal(ScenarioName.BrowseAbandonment, d.Scenario);
        Assert.Equal(["view-1", "view-2", "view-3"], d.BasedOn);
    }

    [Fact]
    public void Given_anonymous_events_out_of_order_When_absorbed_Then_they_are_applied_in_time_order()
    {
        var known = Customer();
        var ctx = Context();
        var events = new Events.CustomerEvent[]
        {
            Removed("rem-1", T0.AddMinutes(5)),
            Added("add-1", T0, quantity: 2),
        };

        CustomerJourney.Absorb(known, events, ctx);

        // Add then remove-all: the cart was emptied, so there is nothing to remind about.
        Assert.Empty(known.Carts);
        Assert.Empty(CustomerJourney.AdvanceTo(known, T0.AddDays(1), ctx).Decisions);
    }
}
