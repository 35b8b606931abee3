using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

/// <summary>SPEC 2: a replayed messageId is accepted and ignored.</summary>
public sealed class DedupTests
{
    [Fact]
    public void Given_product_added_When_the_same_message_id_arrives_again_Then_it_is_reported_duplicate_and_changes_nothing()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0, quantity: 1));
        var historyBefore = s.History.Count;

        var step = CustomerJourney.Handle(s, Added("add-1", T0.AddMinutes(10), quantity: 1), ctx);

        Assert.True(step.Duplicate);
        Assert.Empty(step.Decisions);
        Assert.Equal(1, s.Carts["cart-1"].ItemCount);
        Assert.Equal(historyBefore, s.History.Count);
        Assert.Equal(T0.AddMinutes(30), CustomerJourney.NextDue(s, ctx));
    }

    [Fact]
    public void Given_signed_up_When_the_sign_up_is_replayed_Then_no_second_decision()
    {
        var s = Customer();
        var ctx = Context();
        Assert.Single(Play(s, ctx, SignedUp("su-1", T0)));

        var step = CustomerJourney.Handle(s, SignedUp("su-1", T0), ctx);

        Assert.True(step.Duplicate);
        Assert.Empty(step.Decisions);
        Assert.Single(s.Decisions);
    }

    [Fact]
    public void Given_message_sent_When_replayed_Then_it_counts_once_toward_the_caps()
    {
        var s = Customer();
        var ctx = Context(Consented(maxPerWeek: 2));
        Play(s, ctx, MessageSent("ext-1", T0.AddDays(-2), "sms"), MessageSent("ext-1", T0.AddDays(-2), "sms"),
            Added("add-1", T0));

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddMinutes(30), ctx).Decisions);

        Assert.Single(s.Sends, x => x.Scenario is null);
        Assert.Equal(Outcome.Sent, d.Outcome);
    }

    [Fact]
    public void Given_two_views_When_the_second_is_replayed_Then_the_view_count_stays_below_the_threshold()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Viewed("view-1", T0), Viewed("view-2", T0.AddMinutes(1)), Viewed("view-2", T0.AddMinutes(1)));

        Assert.Equal(2, s.Browsing["sku-1"].Views.Count);
        Assert.Empty(CustomerJourney.AdvanceTo(s, T0.AddDays(1), ctx).Decisions);
    }

    [Fact]
    public void Given_price_drop_notified_When_the_notification_is_redelivered_Then_no_second_decision()
    {
        var s = Customer();
        var ctx = Context();
        var drop = PriceDropped("price:sku-1:80:1", T0, 80m, 100m, T0.AddDays(-1));
        Assert.Single(Play(s, ctx, drop));

        var step = CustomerJourney.Handle(s, drop, ctx);

        Assert.True(step.Duplicate);
        Assert.Empty(step.Decisions);
        Assert.Single(s.Decisions, d => d.Scenario == ScenarioName.PriceDrop);
    }
}
