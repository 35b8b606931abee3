using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

/// <summary>SPEC 5 explain: active instances with their due times, and cap counters.</summary>
public sealed class CustomerExplainTests
{
    [Fact]
    public void Given_open_cart_and_pending_arbitration_When_explained_Then_instances_show_their_due_times()
    {
        var s = Customer();
        var ctx = DefaultWindowContext();
        Play(s, ctx, Added("add-1", T0), SignedUp("su-1", T0.AddMinutes(5)));

        var instances = CustomerExplain.ActiveInstances(s, ctx.Scenarios);

        Assert.Contains(instances, i => i.Scenario == ScenarioName.AbandonedCart && i.Key == "cart-1" && i.DueAt == T0.AddMinutes(30));
        Assert.Contains(instances, i => i.Scenario == ScenarioName.Welcome && i.DueAt == T0.AddMinutes(6));
    }

    [Fact]
    public void Given_one_email_sent_and_an_own_limit_When_caps_explained_Then_counters_reflect_the_send()
    {
        var s = Customer();
        var consent = Consented(maxPerWeek: 2);
        Play(s, Context(consent), SignedUp("su-1", T0));

        var caps = CustomerExplain.Caps(s, consent, PolicyRules.Default, T0.AddHours(1));

        Assert.Equal(1, Assert.Single(caps, c => c.Cap == "global").Used);
        Assert.Equal(2, Assert.Single(caps, c => c.Cap == "maxPerWeek").Limit);
        Assert.Equal(1, Assert.Single(caps, c => c.Cap == "email").Used);
        Assert.Equal(0, Assert.Single(caps, c => c.Cap == "sms").Used);
        var nextDay = CustomerExplain.Caps(s, consent, PolicyRules.Default, T0.AddHours(24));
        Assert.Equal(0, Assert.Single(nextDay, c => c.Cap == "email").Used);
        Assert.Equal(1, Assert.Single(nextDay, c => c.Cap == "global").Used);
    }
}
