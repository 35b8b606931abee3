using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

/// <summary>SPEC 4 quiet hours: sms and push not between 21:00 and 08:00 in the customer's zone; deferral, not drop.
/// The welcome goes by sms here because the customer only consented to sms.</summary>
public sealed class QuietHoursTests
{
    private static readonly ConsentRecord SmsOnly = ConsentedTo(["sms"]);

    /// <summary>Wednesday 2025-01-15 21:30 UTC = 22:30 in Paris (UTC+1 in winter).</summary>
    private static readonly DateTimeOffset ParisEvening = DateTimeOffset.Parse("2025-01-15T21:30:00Z");

    /// <summary>08:00 in Paris the next morning.</summary>
    private static readonly DateTimeOffset ParisMorning = DateTimeOffset.Parse("2025-01-16T07:00:00Z");

    [Fact]
    public void Given_paris_customer_When_sms_welcome_fires_at_22_30_local_Then_deferred_to_08_00_local()
    {
        var s = Customer();
        var ctx = Context(SmsOnly);

        var d = Assert.Single(Play(s, ctx, SignedUp("su-1", ParisEvening) with { TimeZone = "Europe/Paris" }));

        Assert.Equal(Outcome.Deferred, d.Outcome);
        Assert.Null(d.SuppressedBy);
        Assert.Equal("sms", d.Channel);
        Assert.Equal(ParisMorning, d.DeferredUntil);
        Assert.Equal(ParisEvening, d.DecidedAt);
        Assert.False(d.IsFinal);
        Assert.Contains("Europe/Paris", d.Reason);
        Assert.Equal(ParisMorning, CustomerJourney.NextDue(s, ctx));
    }

    [Fact]
    public void Given_deferred_welcome_When_quiet_hours_end_Then_final_sent_record_keeps_the_same_decision_id()
    {
        var s = Customer();
        var ctx = Context(SmsOnly);
        var deferred = Assert.Single(Play(s, ctx, SignedUp("su-1", ParisEvening) with { TimeZone = "Europe/Paris" }));

        Assert.Empty(CustomerJourney.AdvanceTo(s, ParisMorning - TimeSpan.FromTicks(1), ctx).Decisions);
        var step = CustomerJourney.AdvanceTo(s, ParisMorning, ctx);

        var final = Assert.Single(step.Decisions);
        Assert.Equal(deferred.DecisionId, final.DecisionId);
        Assert.Equal(Outcome.Sent, final.Outcome);
        Assert.Equal("sms", final.Channel);
        Assert.Equal(ParisEvening, final.FiredAt);
        Assert.Equal(ParisMorning, final.DecidedAt);
        Assert.True(final.IsFinal);
        Assert.Null(step.NextDue);
        Assert.Equal([Outcome.Deferred, Outcome.Sent], s.Decisions.Select(x => x.Outcome));
    }

    [Fact]
    public void Given_new_york_customer_When_sms_welcome_fires_at_22_00_local_Then_deferred_to_08_00_new_york_time()
    {
        var s = Customer();
        var ctx = Context(SmsOnly);
        var at = DateTimeOffset.Parse("2025-01-16T03:00:00Z"); // 22:00 on the 15th in New York (UTC-5)

        var d = Assert.Single(Play(s, ctx, SignedUp("su-1", at) with { TimeZone = "America/New_York" }));

        Assert.Equal(Outcome.Deferred, d.Outcome);
        Assert.Equal(DateTimeOffset.Parse("2025-01-16T13:00:00Z"), d.DeferredUntil);
    }

    [Fact]
    public void Given_new_york_customer_When_sms_welcome_fires_at_18_30_local_Then_sent_although_it_is_night_in_utc()
    {
        var s = Customer();
        var at = DateTimeOffset.Parse("2025-01-15T23:30:00Z"); // 18:30 in New York

        var d = Assert.Single(Play(s, Context(SmsOnly), SignedUp("su-1", at) with { TimeZone = "America/New_York" }));

        Assert.Equal(Outcome.Sent, d.Outcome);
    }

    [Fact]
    public void Given_no_time_zone_seen_When_sms_welcome_fires_at_22_00_utc_Then_default_zone_utc_defers_to_08_00_utc()
    {
        var s = Customer();
        var at = DateTimeOffset.Parse("2025-01-15T22:00:00Z");

        var d = Assert.Single(Play(s, Context(SmsOnly), SignedUp("su-1", at)));

        Assert.Equal(Outcome.Deferred, d.Outcome);
        Assert.Equal(DateTimeOffset.Parse("2025-01-16T08:00:00Z"), d.DeferredUntil);
    }

    [Fact]
    public void Given_time_zone_seen_on_an_earlier_event_When_welcome_fires_Then_the_last_zone_seen_is_used()
    {
        var s = Customer();
        var ctx = Context(SmsOnly);
        Play(s, ctx, Viewed("view-1", ParisEvening.AddDays(-2)) with { TimeZone = "America/New_York" },
            Viewed("view-2", ParisEvening.AddDays(-1)) with { TimeZone = "Europe/Paris" });

        var d = Assert.Single(Play(s, ctx, SignedUp("su-1", ParisEvening)));

        Assert.Equal("Europe/Paris", s.TimeZone);
        Assert.Equal(ParisMorning, d.DeferredUntil);
    }

    [Fact]
    public void Given_email_channel_When_welcome_fires_at_night_Then_email_has_no_quiet_hours()
    {
        var s = Customer();

        var d = Assert.Single(Play(s, Context(), SignedUp("su-1", ParisEvening) with { TimeZone = "Europe/Paris" }));

        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("email", d.Channel);
    }

    [Fact]
    public void Given_push_preferred_over_email_When_push_is_in_quiet_hours_Then_deferred_on_push_not_switched_to_email()
    {
        var rules = ScenarioRules.Default.WithCommon(ScenarioName.AbandonedCart, c => c with { Channels = ["push", "email"] });
        var s = Customer();
        var ctx = Context(scenarios: rules);
        Play(s, ctx, Added("add-1", ParisEvening) with { TimeZone = "Europe/Paris" });

        var deferred = Assert.Single(CustomerJourney.AdvanceTo(s, ParisEvening.AddMinutes(30), ctx).Decisions);
        var final = Assert.Single(CustomerJourney.AdvanceTo(s, ParisMorning, ctx).Decisions);

        Assert.Equal(Outcome.Deferred, deferred.Outcome);
        Assert.Equal("push", deferred.Channel);
        Assert.Equal(ParisMorning, deferred.DeferredUntil);
        Assert.Equal(Outcome.Sent, final.Outcome);
        Assert.Equal("push", final.Channel);
    }

    [Fact]
    public void Given_deferred_sms_welcome_When_email_consent_is_granted_overnight_Then_channel_choice_runs_again_and_email_is_used()
    {
        var s = Customer();
        var deferred = Assert.Single(Play(s, Context(SmsOnly), SignedUp("su-1", ParisEvening) with { TimeZone = "Europe/Paris" }));

        var final = Assert.Single(CustomerJourney.AdvanceTo(s, ParisMorning, Context(Consented())).Decisions);

        Assert.Equal("sms", deferred.Channel);
        Assert.Equal(deferred.DecisionId, final.DecisionId);
        Assert.Equal(Outcome.Sent, final.Outcome);
        Assert.Equal("email", final.Channel);
    }

    [Fact]
    public void Given_exactly_08_00_local_When_sms_welcome_fires_Then_sent()
    {
        var s = Customer();

        var d = Assert.Single(Play(s, Context(SmsOnly), SignedUp("su-1", ParisMorning) with { TimeZone = "Europe/Paris" }));

        Assert.Equal(Outcome.Sent, d.Outcome);
    }

    [Fact]
    public void Given_exactly_21_00_local_When_sms_welcome_fires_Then_deferred()
    {
        var s = Customer();
        var at = DateTimeOffset.Parse("2025-01-15T20:00:00Z"); // 21:00 in Paris

        var d = Assert.Single(Play(s, Context(SmsOnly), SignedUp("su-1", at) with { TimeZone = "Europe/Paris" }));

        Assert.Equal(Outcome.Deferred, d.Outcome);
        Assert.Equal(ParisMorning, d.DeferredUntil);
    }

    [Fact]
    public void Given_max_deferral_shorter_than_the_quiet_hours_left_When_sms_welcome_fires_Then_suppressed_quiet_hours()
    {
        var rules = ScenarioRules.Default.WithCommon(ScenarioName.Welcome, c => c with { MaxDeferral = TimeSpan.FromHours(2) });
        var s = Customer();
        var ctx = Context(SmsOnly, scenarios: rules);

        var d = Assert.Single(Play(s, ctx, SignedUp("su-1", ParisEvening) with { TimeZone = "Europe/Paris" }));

        Assert.Equal(Outcome.Suppressed, d.Outcome);
        Assert.Equal(SuppressedBy.QuietHours, d.SuppressedBy);
        Assert.Equal("sms", d.Channel);
        Assert.Null(d.DeferredUntil);
        Assert.Null(CustomerJourney.NextDue(s, ctx));
    }

    [Fact]
    public void Given_max_deferral_longer_than_the_quiet_hours_left_When_sms_welcome_fires_Then_deferred()
    {
        var rules = ScenarioRules.Default.WithCommon(ScenarioName.Welcome, c => c with { MaxDeferral = TimeSpan.FromHours(10) });
        var s = Customer();

        var d = Assert.Single(Play(s, Context(SmsOnly, scenarios: rules),
            SignedUp("su-1", ParisEvening) with { TimeZone = "Europe/Paris" }));

        Assert.Equal(Outcome.Deferred, d.Outcome);
        Assert.Equal(ParisMorning, d.DeferredUntil);
    }

    [Fact]
    public void Given_deferred_welcome_When_consent_is_withdrawn_overnight_Then_final_record_is_suppressed_with_the_same_id()
    {
        var s = Customer();
        var deferred = Assert.Single(Play(s, Context(SmsOnly), SignedUp("su-1", ParisEvening) with { TimeZone = "Europe/Paris" }));

        var withdrawn = SmsOnly with { UnsubscribedAll = true };
        var final = Assert.Single(CustomerJourney.AdvanceTo(s, ParisMorning, Context(withdrawn)).Decisions);

        Assert.Equal(deferred.DecisionId, final.DecisionId);
        Assert.Equal(Outcome.Suppressed, final.Outcome);
        Assert.Equal(SuppressedBy.NoConsent, final.SuppressedBy);
        Assert.Equal(ParisMorning, final.DecidedAt);
    }

    [Fact]
    public void Given_deferred_welcome_When_another_system_sends_an_sms_overnight_Then_caps_are_checked_again_at_08_00()
    {
        var s = Customer();
        var ctx = Context(SmsOnly);
        var deferred = Assert.Single(Play(s, ctx, SignedUp("su-1", ParisEvening) with { TimeZone = "Europe/Paris" }));
        Play(s, ctx, MessageSent("ext-1", DateTimeOffset.Parse("2025-01-16T01:00:00Z"), "sms"));

        var final = Assert.Single(CustomerJourney.AdvanceTo(s, ParisMorning, ctx).Decisions);

        Assert.Equal(deferred.DecisionId, final.DecisionId);
        Assert.Equal(SuppressedBy.FrequencyCap, final.SuppressedBy);
    }

    [Fact]
    public void Given_paris_on_the_night_clocks_go_forward_When_quiet_hours_end_Then_08_00_summer_time_is_06_00_utc()
    {
        var zone = QuietHoursClock.Zone("Europe/Paris", "UTC");
        var quiet = PolicyRules.Default.QuietHoursByChannel["sms"];

        var end = QuietHoursClock.EndOfQuiet(quiet, DateTimeOffset.Parse("2025-03-29T21:30:00Z"), zone); // 22:30 CET

        Assert.Equal(DateTimeOffset.Parse("2025-03-30T06:00:00Z"), end);
    }

    [Fact]
    public void Given_early_morning_local_When_checking_quiet_hours_Then_they_end_at_08_00_the_same_day()
    {
        var zone = QuietHoursClock.Zone("America/New_York", "UTC");
        var quiet = PolicyRules.Default.QuietHoursByChannel["push"];

        var end = QuietHoursClock.EndOfQuiet(quiet, DateTimeOffset.Parse("2025-07-01T07:00:00Z"), zone); // 03:00 EDT

        Assert.Equal(DateTimeOffset.Parse("2025-07-01T12:00:00Z"), end);
        Assert.Null(QuietHoursClock.EndOfQuiet(quiet, DateTimeOffset.Parse("2025-07-01T16:00:00Z"), zone)); // 12:00 EDT
    }

    [Fact]
    public void Given_unknown_zone_id_When_resolving_the_zone_Then_falls_back_to_the_default_zone()
    {
        Assert.Equal(TimeZoneInfo.Utc.BaseUtcOffset, QuietHoursClock.Zone("Mars/Olympus_Mons", "UTC").BaseUtcOffset);
        Assert.Equal("Europe/Paris", QuietHoursClock.Zone(null, "Europe/Paris").Id);
    }
}
