using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

public sealed class WelcomeTests
{
    [Fact]
    public void Given_new_customer_When_signed_up_Then_welcome_sent_by_email_at_once()
    {
        var s = Customer();

        var step = CustomerJourney.Handle(s, SignedUp("su-1", T0), Context());

        var d = Assert.Single(step.Decisions);
        Assert.Equal(ScenarioName.Welcome, d.Scenario);
        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("email", d.Channel);
        Assert.Equal("promotions", d.Purpose);
        Assert.Equal(90, d.Priority);
        Assert.Equal(T0, d.FiredAt);
        Assert.Equal(T0, d.DecidedAt);
        Assert.Equal(["su-1"], d.BasedOn);
        Assert.Equal("Welcome: you signed up", d.Reason);
        Assert.Equal("Signed Up", d.Payload["trigger_event"]);
    }

    [Fact]
    public void Given_new_customer_When_newsletter_subscribed_Then_welcome_fires_naming_the_newsletter()
    {
        var s = Customer();

        var d = Assert.Single(Play(s, Context(), SignedUp("ns-1", T0, "Newsletter Subscribed")));

        Assert.Equal(ScenarioName.Welcome, d.Scenario);
        Assert.Equal("Welcome: you subscribed to the newsletter", d.Reason);
    }

    [Fact]
    public void Given_welcomed_customer_When_signed_up_or_subscribed_again_later_Then_no_second_welcome()
    {
        var s = Customer();
        var ctx = Context();
        Assert.Single(Play(s, ctx, SignedUp("su-1", T0)));

        var later = Play(s, ctx, SignedUp("su-2", T0.AddDays(10)), SignedUp("ns-1", T0.AddDays(20), "Newsletter Subscribed"));

        Assert.Empty(later);
    }

    [Fact]
    public void Given_email_not_consented_When_signed_up_Then_welcome_falls_back_to_sms()
    {
        var s = Customer();

        var d = Assert.Single(Play(s, Context(ConsentedTo(["sms"])), SignedUp("su-1", T0)));

        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("sms", d.Channel);
    }

    [Fact]
    public void Given_welcome_disabled_When_signed_up_Then_no_decision_at_all()
    {
        var rules = ScenarioRules.Default.WithCommon(ScenarioName.Welcome, c => c with { Enabled = false });
        var s = Customer();

        var step = CustomerJourney.Handle(s, SignedUp("su-1", T0), Context(scenarios: rules));

        Assert.Empty(step.Decisions);
        Assert.Empty(s.Decisions);
    }

    [Fact]
    public void Given_default_arbitration_window_When_signed_up_Then_welcome_is_decided_one_minute_later()
    {
        var s = Customer();
        var ctx = DefaultWindowContext();

        var step = CustomerJourney.Handle(s, SignedUp("su-1", T0), ctx);
        Assert.Empty(step.Decisions);
        Assert.Equal(T0.AddMinutes(1), step.NextDue);
        Assert.Empty(CustomerJourney.AdvanceTo(s, T0.AddMinutes(1) - TimeSpan.FromTicks(1), ctx).Decisions);

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddMinutes(1), ctx).Decisions);
        Assert.Equal(T0, d.FiredAt);
        Assert.Equal(T0.AddMinutes(1), d.DecidedAt);
    }
}
