using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

/// <summary>SPEC 4: consent, channel choice and frequency caps, seen through the decisions of a cart reminder
/// (channels email, push, sms) or a welcome (email, sms). T0 is 10:00 UTC, outside every quiet hour.</summary>
public sealed class PolicyTests
{
    private static readonly DateTimeOffset CartDue = T0.AddMinutes(30);

    /// <summary>A cart added at T0 under <paramref name="ctx"/>, after <paramref name="before"/>; the reminder's decision.</summary>
    private static TriggerDecision CartReminder(JourneyContext ctx, params Events.CustomerEvent[] before)
    {
        var s = Customer();
        Play(s, ctx, before);
        Play(s, ctx, Added("add-1", T0));
        return Assert.Single(CustomerJourney.AdvanceTo(s, CartDue, ctx).Decisions);
    }

    private static ConsentRecord With(Func<ConsentRecord, ConsentRecord> change) => change(Consented());

    [Fact]
    public void Given_no_consent_record_When_scenario_fires_Then_suppressed_no_consent()
    {
        var d = CartReminder(new JourneyContext(ScenarioRules.Default, Immediate, null));

        Assert.Equal(Outcome.Suppressed, d.Outcome);
        Assert.Equal(SuppressedBy.NoConsent, d.SuppressedBy);
        Assert.Null(d.Channel);
        Assert.Contains("no consent record", d.Reason);
        Assert.StartsWith("You left 1 item", d.Reason);
    }

    [Fact]
    public void Given_no_consent_record_and_opt_in_not_required_When_scenario_fires_Then_sent()
    {
        var d = CartReminder(new JourneyContext(ScenarioRules.Default, Immediate with { RequireConsentRecord = false }, null));

        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("email", d.Channel);
    }

    [Fact]
    public void Given_customer_unsubscribed_from_all_When_scenario_fires_Then_suppressed_no_consent()
    {
        var d = CartReminder(Context(With(c => c with { UnsubscribedAll = true })));

        Assert.Equal(SuppressedBy.NoConsent, d.SuppressedBy);
        Assert.Contains("unsubscribed from all", d.Reason);
    }

    [Fact]
    public void Given_customer_opted_out_of_a_scenario_topic_When_it_fires_Then_suppressed_opt_out_topic()
    {
        var rules = ScenarioRules.Default.WithCommon(ScenarioName.AbandonedCart, c => c with { Topics = ["mothers_day"] });
        var consent = With(c => c with { OptOutTopics = ["mothers_day"] });

        var d = CartReminder(Context(consent, scenarios: rules));

        Assert.Equal(Outcome.Suppressed, d.Outcome);
        Assert.Equal(SuppressedBy.OptOutTopic, d.SuppressedBy);
        Assert.Contains("mothers_day", d.Reason);
    }

    [Fact]
    public void Given_customer_opted_out_of_a_topic_the_scenario_does_not_name_When_it_fires_Then_sent()
    {
        var rules = ScenarioRules.Default.WithCommon(ScenarioName.AbandonedCart, c => c with { Topics = ["black_friday"] });
        var consent = With(c => c with { OptOutTopics = ["mothers_day"] });

        Assert.Equal(Outcome.Sent, CartReminder(Context(consent, scenarios: rules)).Outcome);
    }

    [Fact]
    public void Given_purpose_refused_When_scenario_fires_Then_suppressed_no_consent_naming_the_purpose()
    {
        var consent = With(c => c with
        {
            Purposes = new Dictionary<string, bool> { ["cart_reminders"] = false, ["promotions"] = true },
        });

        var d = CartReminder(Context(consent));

        Assert.Equal(SuppressedBy.NoConsent, d.SuppressedBy);
        Assert.Contains("cart_reminders", d.Reason);
    }

    [Fact]
    public void Given_purpose_missing_from_the_record_When_scenario_fires_Then_counts_as_not_consented()
    {
        var d = CartReminder(Context(ConsentedTo(["email"], ["promotions"])));

        Assert.Equal(SuppressedBy.NoConsent, d.SuppressedBy);
    }

    [Fact]
    public void Given_no_channel_of_the_list_consented_When_scenario_fires_Then_suppressed_no_consent()
    {
        var d = CartReminder(Context(ConsentedTo(["whatsapp"])));

        Assert.Equal(Outcome.Suppressed, d.Outcome);
        Assert.Equal(SuppressedBy.NoConsent, d.SuppressedBy);
        Assert.Null(d.Channel);
    }

    [Fact]
    public void Given_email_refused_When_cart_reminder_fires_Then_falls_back_to_push()
    {
        var consent = With(c => c with
        {
            Channels = new Dictionary<string, bool> { ["email"] = false, ["push"] = true, ["sms"] = true },
        });

        var d = CartReminder(Context(consent));

        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("push", d.Channel);
    }

    [Fact]
    public void Given_email_capped_by_a_message_sent_earlier_today_When_cart_reminder_fires_Then_falls_back_to_push()
    {
        var d = CartReminder(Context(), MessageSent("ext-1", T0.AddHours(-5), "email"));

        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("push", d.Channel);
    }

    [Fact]
    public void Given_email_sent_exactly_24_hours_before_When_cart_reminder_fires_Then_email_is_free_again()
    {
        var d = CartReminder(Context(), MessageSent("ext-1", CartDue.AddHours(-24), "email"));

        Assert.Equal("email", d.Channel);
    }

    [Fact]
    public void Given_every_consented_channel_capped_When_welcome_fires_Then_suppressed_frequency_cap_naming_the_caps()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, MessageSent("ext-sms", T0.AddDays(-3), "sms"), MessageSent("ext-email", T0.AddHours(-5), "email"));

        var d = Assert.Single(Play(s, ctx, SignedUp("su-1", T0)));

        Assert.Equal(Outcome.Suppressed, d.Outcome);
        Assert.Equal(SuppressedBy.FrequencyCap, d.SuppressedBy);
        Assert.Contains("email limit of 1 per 24 h reached", d.Reason);
        Assert.Contains("sms limit of 1 per 7 d reached", d.Reason);
    }

    [Fact]
    public void Given_only_capped_channels_consented_When_scenario_fires_Then_frequency_cap_not_no_consent()
    {
        var d = CartReminder(Context(ConsentedTo(["email"])), MessageSent("ext-1", T0.AddHours(-5), "email"));

        Assert.Equal(SuppressedBy.FrequencyCap, d.SuppressedBy);
    }

    [Fact]
    public void Given_three_messages_this_week_When_scenario_fires_Then_suppressed_by_the_global_cap()
    {
        var d = CartReminder(Context(),
            MessageSent("ext-1", T0.AddDays(-5), "email"),
            MessageSent("ext-2", T0.AddDays(-3), "push"),
            MessageSent("ext-3", T0.AddDays(-1), "email"));

        Assert.Equal(SuppressedBy.FrequencyCap, d.SuppressedBy);
        Assert.Contains("global limit of 3 per 7 d reached", d.Reason);
    }

    [Fact]
    public void Given_three_messages_the_oldest_just_over_a_week_ago_When_scenario_fires_Then_global_cap_has_room()
    {
        var d = CartReminder(Context(),
            MessageSent("ext-1", CartDue.AddDays(-7), "email"),
            MessageSent("ext-2", T0.AddDays(-3), "push"),
            MessageSent("ext-3", T0.AddDays(-2), "email"));

        Assert.Equal(Outcome.Sent, d.Outcome);
    }

    [Fact]
    public void Given_customer_own_limit_of_one_per_week_stricter_than_global_When_second_message_Then_suppressed()
    {
        var d = CartReminder(Context(Consented(maxPerWeek: 1)), MessageSent("ext-1", T0.AddDays(-2), "sms"));

        Assert.Equal(SuppressedBy.FrequencyCap, d.SuppressedBy);
        Assert.Contains("own limit of 1 per week", d.Reason);
    }

    [Fact]
    public void Given_customer_own_limit_looser_than_global_When_fourth_message_in_a_week_Then_global_cap_still_holds()
    {
        var d = CartReminder(Context(Consented(maxPerWeek: 10)),
            MessageSent("ext-1", T0.AddDays(-5), "email"),
            MessageSent("ext-2", T0.AddDays(-3), "push"),
            MessageSent("ext-3", T0.AddDays(-1), "email"));

        Assert.Equal(SuppressedBy.FrequencyCap, d.SuppressedBy);
        Assert.Contains("global limit", d.Reason);
    }

    [Fact]
    public void Given_a_message_one_hour_ago_When_scenario_fires_Then_suppressed_by_the_minimum_gap()
    {
        var d = CartReminder(Context(), MessageSent("ext-1", CartDue.AddHours(-1), "sms"));

        Assert.Equal(SuppressedBy.FrequencyCap, d.SuppressedBy);
        Assert.Contains("minimum gap of 4 h", d.Reason);
    }

    [Fact]
    public void Given_a_message_exactly_the_minimum_gap_ago_When_scenario_fires_Then_sent()
    {
        var d = CartReminder(Context(), MessageSent("ext-1", CartDue.AddHours(-4), "sms"));

        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("email", d.Channel);
    }

    [Fact]
    public void Given_cart_reminder_sent_When_another_cart_is_abandoned_within_24_hours_Then_suppressed_by_the_scenario_cool_down()
    {
        var s = Customer();
        var ctx = Context();
        var decisions = Play(s, ctx, Added("add-1", T0), Added("add-2", T0.AddHours(5), cartId: "cart-2"));
        decisions.AddRange(CustomerJourney.AdvanceTo(s, T0.AddDays(1), ctx).Decisions);

        Assert.Equal(2, decisions.Count);
        Assert.Equal(Outcome.Sent, decisions[0].Outcome);
        Assert.Equal(Outcome.Suppressed, decisions[1].Outcome);
        Assert.Equal(SuppressedBy.FrequencyCap, decisions[1].SuppressedBy);
        Assert.Equal(T0.AddHours(5).AddMinutes(30), decisions[1].FiredAt);
        Assert.Contains("abandoned_cart cool-down of 24 h", decisions[1].Reason);
    }

    [Fact]
    public void Given_welcome_sent_When_cart_abandoned_five_hours_later_Then_the_engines_own_send_caps_email_and_push_is_used()
    {
        var s = Customer();
        var ctx = Context();
        var welcome = Assert.Single(Play(s, ctx, SignedUp("su-1", T0)));
        Play(s, ctx, Added("add-1", T0.AddHours(4).AddMinutes(30)));

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddHours(5), ctx).Decisions);

        Assert.Equal("email", welcome.Channel);
        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("push", d.Channel);
    }

    [Fact]
    public void Given_message_sent_by_another_system_later_than_the_decision_instant_When_policy_runs_Then_it_does_not_count()
    {
        var s = Customer();
        var ctx = Context();
        Play(s, ctx, Added("add-1", T0));

        // Caps are counted as of the instant the decision was due.
        var d = Assert.Single(Play(s, ctx, MessageSent("ext-1", CartDue.AddMinutes(5), "email")));

        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("email", d.Channel);
    }

    [Fact]
    public void Given_consent_changes_between_two_decisions_When_the_policy_runs_Then_the_record_held_at_that_moment_is_used()
    {
        var s = Customer();
        Play(s, Context(), Added("add-1", T0));

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, CartDue, Context(With(c => c with { UnsubscribedAll = true }))).Decisions);

        Assert.Equal(SuppressedBy.NoConsent, d.SuppressedBy);
    }

    [Fact]
    public void Given_suppressed_decision_When_recorded_Then_it_reserves_no_cap()
    {
        var s = Customer();
        Play(s, Context(ConsentedTo(["email"], [])), SignedUp("su-1", T0));

        Play(s, Context(), Added("add-1", T0.AddMinutes(10)));
        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddMinutes(40), Context()).Decisions);

        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("email", d.Channel);
        Assert.Equal(SuppressedBy.NoConsent, s.Decisions[0].SuppressedBy);
    }
}
