using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace TriggerEngine.Host.Tests;

/// <summary>SPEC 4: consent, channel choice, frequency caps, quiet hours and arbitration, through the HTTP API.</summary>
public sealed class PolicyOverHttpTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);

    private static object AddedIn(string userId, DateTimeOffset at, string timezone, string cartId = "cart-1") =>
        Calls.Track(userId, "Product Added", at, new { product_id = "sku-1", quantity = 1, price = 20, cart_id = cartId },
            timezone: timezone);

    // ---- consent and channel choice ----

    [Fact]
    public async Task Given_email_not_consented_but_push_When_the_cart_is_abandoned_Then_it_is_sent_by_push()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("cy", email: false, push: true);
        await engine.Batch(Calls.Added("cy", T0));
        await engine.Watermark(T0.AddHours(1));
        var d = Assert.Single(await engine.FinalRecords("cy", "abandoned_cart"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal("push", (string?)d["channel"]);
    }

    [Fact]
    public async Task Given_the_email_cap_used_by_another_system_When_the_cart_is_abandoned_Then_the_next_consented_channel_is_used()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("cy", email: true, push: true);
        await engine.Batch(Calls.MessageSent("cy", T0.AddHours(-5), "email"), Calls.Added("cy", T0));
        await engine.Watermark(T0.AddHours(1));
        var d = Assert.Single(await engine.FinalRecords("cy", "abandoned_cart"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal("push", (string?)d["channel"]);
    }

    [Fact]
    public async Task Given_cart_reminders_not_consented_When_the_cart_is_abandoned_Then_it_is_suppressed_no_consent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("cy", email: true, push: true, sms: true, cartReminders: false);
        await engine.Batch(Calls.Added("cy", T0));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("suppressed", (string?)"no_consent")], await engine.Finals("cy", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_only_a_channel_outside_the_scenario_list_When_reorder_delay_fires_Then_it_is_suppressed_no_consent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("cy", email: false, push: true, sms: true);
        await engine.Batch(
            Calls.Order("cy", T0, "o-1", null, new { product_id = "sku-1", quantity = 1, price = 10 }),
            Calls.Order("cy", T0.AddDays(10), "o-2", null, new { product_id = "sku-1", quantity = 1, price = 10 }),
            Calls.Order("cy", T0.AddDays(20), "o-3", null, new { product_id = "sku-1", quantity = 1, price = 10 }));
        await engine.Watermark(T0.AddDays(40));
        Assert.Equal([("suppressed", (string?)"no_consent")], await engine.Finals("cy", "reorder_delay"));
    }

    [Fact]
    public async Task Given_the_customer_unsubscribed_from_all_When_the_cart_is_abandoned_Then_it_is_suppressed_no_consent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("cy", email: true, push: true, sms: true, unsubscribedAll: true);
        await engine.Batch(Calls.Added("cy", T0));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("suppressed", (string?)"no_consent")], await engine.Finals("cy", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_consent_records_not_required_by_config_When_a_customer_without_one_abandons_a_cart_Then_it_is_sent()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string> { ["Policy:requireConsentRecord"] = "false" });
        await engine.Batch(Calls.Added("cy", T0));
        await engine.Watermark(T0.AddHours(1));
        var d = Assert.Single(await engine.FinalRecords("cy", "abandoned_cart"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal("email", (string?)d["channel"]);
    }

    [Fact]
    public async Task Given_consent_arrives_after_the_cart_but_before_it_is_due_When_the_cart_is_abandoned_Then_it_is_sent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Batch(Calls.Added("cy", T0));
        await engine.Watermark(T0.AddMinutes(10));
        await engine.Consent("cy");
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("cy", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_consent_withdrawn_before_the_cart_is_due_When_the_cart_is_abandoned_Then_it_is_suppressed_no_consent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("cy", updatedAt: T0.AddDays(-1));
        await engine.Batch(Calls.Added("cy", T0));
        await engine.Watermark(T0.AddMinutes(10));
        await engine.Consent("cy", email: false, updatedAt: T0.AddMinutes(10));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("suppressed", (string?)"no_consent")], await engine.Finals("cy", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_a_stored_consent_When_an_older_update_arrives_Then_it_is_ignored_and_decisions_follow_the_newer_record()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("cy", email: true, updatedAt: T0.AddDays(-1));
        await engine.Consent("cy", email: false, updatedAt: T0.AddDays(-2));

        var consent = await engine.SendOk(HttpMethod.Get, "/v1/consent/cy", auth: "admin");
        Assert.True((bool)consent!["channels"]!["email"]!);
        Assert.Equal(EngineProcess.Iso(T0.AddDays(-1)), (string?)consent["updatedAt"]);

        await engine.Batch(Calls.Added("cy", T0));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("cy", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_a_newer_consent_update_When_it_arrives_Then_it_replaces_the_stored_one()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("cy", email: true, updatedAt: T0.AddDays(-2));
        await engine.Consent("cy", email: false, sms: true, updatedAt: T0.AddDays(-1));
        var consent = await engine.SendOk(HttpMethod.Get, "/v1/consent/cy", auth: "admin");
        Assert.False((bool)consent!["channels"]!["email"]!);
        Assert.True((bool)consent["channels"]!["sms"]!);
    }

    [Fact]
    public async Task Given_a_consent_record_When_it_is_read_back_Then_every_field_is_returned()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("cy", email: true, sms: false, push: true, maxPerWeek: 3, optOutTopics: ["mothers_day"],
            promotions: false, updatedAt: T0);
        var c = (await engine.SendOk(HttpMethod.Get, "/v1/consent/cy", auth: "admin"))!;
        Assert.True((bool)c["channels"]!["email"]!);
        Assert.False((bool)c["channels"]!["sms"]!);
        Assert.True((bool)c["channels"]!["push"]!);
        Assert.True((bool)c["purposes"]!["cart_reminders"]!);
        Assert.False((bool)c["purposes"]!["promotions"]!);
        Assert.True((bool)c["purposes"]!["product_alerts"]!);
        Assert.Equal(3, (int)c["maxPerWeek"]!);
        Assert.Equal(["mothers_day"], c["optOutTopics"]!.AsArray().Select(x => (string)x!).ToArray());
        Assert.False((bool)c["unsubscribedAll"]!);
        Assert.Equal(EngineProcess.Iso(T0), (string?)c["updatedAt"]);
    }

    [Fact]
    public async Task Given_no_consent_record_When_it_is_read_Then_404()
    {
        await using var engine = await EngineProcess.StartAsync();
        var r = await engine.Send(HttpMethod.Get, "/v1/consent/nobody", auth: "admin");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    [Fact]
    public async Task Given_a_scenario_with_a_topic_the_customer_opted_out_of_When_it_fires_Then_it_is_suppressed_opt_out_topic()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["Scenarios:abandoned_cart:topics:0"] = "mothers_day",
        });
        await engine.Consent("cy", email: true, push: true, optOutTopics: ["mothers_day"]);
        await engine.Consent("dee", email: true, push: true, optOutTopics: ["black_friday"]);
        await engine.Batch(Calls.Added("cy", T0), Calls.Added("dee", T0));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("suppressed", (string?)"opt_out_topic")], await engine.Finals("cy", "abandoned_cart"));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("dee", "abandoned_cart"));
    }

    // ---- frequency caps ----

    [Fact]
    public async Task Given_an_abandoned_cart_was_sent_When_a_second_cart_is_abandoned_within_24_hours_Then_it_is_suppressed_frequency_cap()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("fay");
        await engine.Batch(Calls.Added("fay", T0, cartId: "c1"));
        await engine.Watermark(T0.AddHours(1));
        await engine.Batch(Calls.Order("fay", T0.AddHours(1), "o-1", "c1", new { product_id = "sku-1", quantity = 1, price = 20 }),
            Calls.Added("fay", T0.AddHours(2), cartId: "c2"));
        await engine.Watermark(T0.AddHours(4));

        var finals = await engine.FinalRecords("fay", "abandoned_cart");
        Assert.Equal(2, finals.Count);
        Assert.Equal("sent", (string?)finals[0]["outcome"]);
        Assert.Equal("suppressed", (string?)finals[1]["outcome"]);
        Assert.Equal("frequency_cap", (string?)finals[1]["suppressedBy"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)finals[1]["reason"]));
    }

    [Fact]
    public async Task Given_another_system_sent_an_email_an_hour_ago_When_the_cart_is_abandoned_Then_it_is_suppressed_frequency_cap()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("fay");
        await engine.Batch(Calls.MessageSent("fay", T0.AddHours(-1), "email", "promotions"), Calls.Added("fay", T0));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("suppressed", (string?)"frequency_cap")], await engine.Finals("fay", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_a_maxPerWeek_of_one_already_used_by_an_sms_When_the_cart_is_abandoned_Then_it_is_suppressed_frequency_cap()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("fay", maxPerWeek: 1);
        await engine.Consent("gus");
        await engine.Batch(Calls.MessageSent("fay", T0.AddDays(-2), "sms"), Calls.Added("fay", T0),
            Calls.MessageSent("gus", T0.AddDays(-2), "sms"), Calls.Added("gus", T0));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("suppressed", (string?)"frequency_cap")], await engine.Finals("fay", "abandoned_cart"));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("gus", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_three_messages_this_week_When_the_cart_is_abandoned_Then_the_global_cap_suppresses_it()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("fay", email: true, push: true, sms: true);
        await engine.Batch(Calls.MessageSent("fay", T0.AddDays(-5), "sms"), Calls.MessageSent("fay", T0.AddDays(-3), "push"),
            Calls.MessageSent("fay", T0.AddDays(-2), "push"), Calls.Added("fay", T0));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("suppressed", (string?)"frequency_cap")], await engine.Finals("fay", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_an_sms_sent_two_days_ago_When_an_sms_only_customer_abandons_a_cart_Then_the_7_day_sms_cap_suppresses_it()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("sam", email: false, sms: true);
        await engine.Batch(Calls.SignedUp("sam", T0));
        await engine.Watermark(T0.AddMinutes(5));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("sam", "welcome"));
        await engine.Batch(Calls.Added("sam", T0.AddDays(2)));
        await engine.Watermark(T0.AddDays(2).AddHours(1));
        Assert.Equal([("suppressed", (string?)"frequency_cap")], await engine.Finals("sam", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_one_push_six_hours_ago_When_a_push_only_customer_abandons_a_cart_Then_the_second_push_of_the_day_is_sent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("pu", email: false, push: true);
        await engine.Consent("pv", email: false, push: true);
        await engine.Batch(Calls.MessageSent("pu", T0.AddHours(-6), "push"), Calls.Added("pu", T0),
            Calls.MessageSent("pv", T0.AddHours(-10), "push"), Calls.MessageSent("pv", T0.AddHours(-6), "push"), Calls.Added("pv", T0));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("pu", "abandoned_cart"));
        Assert.Equal([("suppressed", (string?)"frequency_cap")], await engine.Finals("pv", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_channel_caps_and_gap_lifted_When_the_same_scenario_fires_twice_within_24_hours_Then_the_cool_down_suppresses_the_second()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["Policy:caps:minimumGap"] = "00:00:00", ["Policy:caps:channels:email:max"] = "10",
        });
        await engine.Consent("cool");
        await engine.Batch(Calls.Added("cool", T0, cartId: "c1"), Calls.Added("cool", T0.AddHours(2), "sku-2", cartId: "c2"));
        await engine.Watermark(T0.AddHours(4));
        var finals = await engine.Finals("cool", "abandoned_cart");
        Assert.Equal([("sent", (string?)null), ("suppressed", "frequency_cap")], finals);
    }

    [Fact]
    public async Task Given_the_email_cap_lifted_When_two_scenarios_send_within_4_hours_Then_the_minimum_gap_suppresses_the_second()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string> { ["Policy:caps:channels:email:max"] = "10" });
        await engine.Consent("gap");
        await engine.Batch(Calls.SignedUp("gap", T0), Calls.Added("gap", T0.AddHours(1)));
        await engine.Watermark(T0.AddHours(3));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("gap", "welcome"));
        Assert.Equal([("suppressed", (string?)"frequency_cap")], await engine.Finals("gap", "abandoned_cart"));
    }

    // ---- quiet hours ----

    [Fact]
    public async Task Given_an_sms_only_customer_in_Paris_When_the_cart_is_abandoned_at_night_Then_it_is_deferred_to_8_am_and_then_sent_with_the_same_id()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("quinn", email: false, sms: true);
        var night = new DateTimeOffset(2030, 1, 7, 21, 0, 0, TimeSpan.Zero); // 22:00 in Paris
        // The last context.timezone seen wins: Tokyo first, then Paris.
        await engine.Batch(Calls.Track("quinn", "Coupon Viewed", night.AddHours(-1), timezone: "Asia/Tokyo"),
            AddedIn("quinn", night, "Europe/Paris"));
        await engine.Watermark(night.AddHours(2));

        var deferred = Assert.Single(await engine.Records("quinn", "abandoned_cart"));
        Assert.Equal("deferred", (string?)deferred["outcome"]);
        Assert.Null((string?)deferred["suppressedBy"]);
        Assert.Equal("sms", (string?)deferred["channel"]);
        Assert.Equal("2030-01-08T07:00:00.000Z", (string?)deferred["deferredUntil"]);
        Assert.Empty(await engine.Finals("quinn", "abandoned_cart"));

        await engine.Watermark(new DateTimeOffset(2030, 1, 8, 9, 0, 0, TimeSpan.Zero));
        var records = await engine.Records("quinn", "abandoned_cart");
        Assert.Equal(["deferred", "sent"], records.Select(r => (string)r["outcome"]!).ToArray());
        var sent = records[1];
        Assert.Equal((string?)deferred["decisionId"], (string?)sent["decisionId"]);
        Assert.Equal("sms", (string?)sent["channel"]);
        Assert.Equal("2030-01-08T07:00:00.000Z", (string?)sent["decidedAt"]);
    }

    [Fact]
    public async Task Given_a_deferred_send_When_consent_is_withdrawn_before_the_quiet_hours_end_Then_the_final_record_is_suppressed_with_the_same_id()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("quinn", email: false, sms: true, updatedAt: T0);
        var night = new DateTimeOffset(2030, 1, 7, 21, 0, 0, TimeSpan.Zero);
        await engine.Batch(AddedIn("quinn", night, "Europe/Paris"));
        await engine.Watermark(night.AddHours(2));
        await engine.Consent("quinn", email: false, sms: false, updatedAt: night.AddHours(2));
        await engine.Watermark(new DateTimeOffset(2030, 1, 8, 9, 0, 0, TimeSpan.Zero));

        var records = await engine.Records("quinn", "abandoned_cart");
        Assert.Equal(["deferred", "suppressed"], records.Select(r => (string)r["outcome"]!).ToArray());
        Assert.Equal("no_consent", (string?)records[1]["suppressedBy"]);
        Assert.Equal((string?)records[0]["decisionId"], (string?)records[1]["decisionId"]);
    }

    [Fact]
    public async Task Given_a_maxDeferral_shorter_than_the_night_When_the_cart_is_abandoned_at_night_Then_it_is_suppressed_quiet_hours()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["Scenarios:abandoned_cart:maxDeferral"] = "02:00:00",
        });
        await engine.Consent("quinn", email: false, sms: true);
        var night = new DateTimeOffset(2030, 1, 7, 21, 0, 0, TimeSpan.Zero);
        await engine.Batch(AddedIn("quinn", night, "Europe/Paris"));
        await engine.Watermark(new DateTimeOffset(2030, 1, 8, 9, 0, 0, TimeSpan.Zero));
        Assert.Equal([("suppressed", (string?)"quiet_hours")], await engine.Finals("quinn", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_no_timezone_and_a_New_York_default_When_the_cart_is_abandoned_at_01_30_UTC_Then_it_is_sent_at_once()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["Policy:defaultTimeZone"] = "America/New_York",
        });
        await engine.Consent("quinn", email: false, sms: true);
        var evening = new DateTimeOffset(2030, 1, 8, 1, 0, 0, TimeSpan.Zero); // 20:00 in New York, night in UTC
        await engine.Batch(Calls.Added("quinn", evening));
        await engine.Watermark(evening.AddHours(2));
        var d = Assert.Single(await engine.Records("quinn", "abandoned_cart"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal("sms", (string?)d["channel"]);
        Assert.Equal(EngineProcess.Iso(evening.AddMinutes(31)), (string?)d["decidedAt"]);
    }

    [Fact]
    public async Task Given_the_first_channel_is_in_quiet_hours_and_a_later_one_is_not_When_deferred_Then_the_channel_is_not_switched()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["Scenarios:abandoned_cart:channels:0"] = "push", ["Scenarios:abandoned_cart:channels:1"] = "email",
        });
        await engine.Consent("quinn", email: true, push: true);
        var night = new DateTimeOffset(2030, 1, 7, 21, 0, 0, TimeSpan.Zero);
        await engine.Batch(AddedIn("quinn", night, "Europe/Paris"));
        await engine.Watermark(new DateTimeOffset(2030, 1, 8, 9, 0, 0, TimeSpan.Zero));
        var records = await engine.Records("quinn", "abandoned_cart");
        Assert.Equal(["deferred", "sent"], records.Select(r => (string)r["outcome"]!).ToArray());
        Assert.All(records, r => Assert.Equal("push", (string?)r["channel"]));
    }

    [Fact]
    public async Task Given_a_deferred_sms_When_another_system_sends_an_sms_before_8_am_Then_the_final_record_is_suppressed_frequency_cap()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("quinn", email: false, sms: true);
        var night = new DateTimeOffset(2030, 1, 7, 21, 0, 0, TimeSpan.Zero);
        await engine.Batch(AddedIn("quinn", night, "Europe/Paris"));
        await engine.Watermark(night.AddHours(2));
        await engine.Batch(Calls.MessageSent("quinn", night.AddHours(3), "sms", "cart_reminders"));
        await engine.Watermark(new DateTimeOffset(2030, 1, 8, 9, 0, 0, TimeSpan.Zero));
        var records = await engine.Records("quinn", "abandoned_cart");
        Assert.Equal(["deferred", "suppressed"], records.Select(r => (string)r["outcome"]!).ToArray());
        Assert.Equal("frequency_cap", (string?)records[1]["suppressedBy"]);
    }

    [Fact]
    public async Task Given_a_pending_cart_When_a_Message_Sent_older_than_the_watermark_arrives_Then_it_still_counts_toward_the_caps()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("fay");
        await engine.Batch(Calls.Added("fay", T0));
        await engine.Watermark(T0.AddMinutes(20));
        await engine.Batch(Calls.MessageSent("fay", T0.AddMinutes(5), "email"));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("suppressed", (string?)"frequency_cap")], await engine.Finals("fay", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_a_consent_record_without_the_scenario_purpose_When_the_cart_is_abandoned_Then_it_is_suppressed_no_consent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.SendOk(HttpMethod.Put, "/v1/consent/cy", new
        {
            channels = new { email = true }, purposes = new { promotions = true }, updatedAt = EngineProcess.Iso(T0.AddDays(-1)),
        }, "admin");
        await engine.Batch(Calls.Added("cy", T0));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("suppressed", (string?)"no_consent")], await engine.Finals("cy", "abandoned_cart"));
    }

    // ---- arbitration ----

    [Fact]
    public async Task Given_welcome_fires_inside_the_abandoned_cart_window_When_the_window_closes_Then_welcome_is_sent_and_the_cart_is_lower_priority()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ari");
        await engine.Batch(Calls.Added("ari", T0), Calls.SignedUp("ari", T0.AddMinutes(30).AddSeconds(30)));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("ari", "welcome"));
        var cart = Assert.Single(await engine.FinalRecords("ari", "abandoned_cart"));
        Assert.Equal("suppressed", (string?)cart["outcome"]);
        Assert.Equal("lower_priority", (string?)cart["suppressedBy"]);
    }

    [Fact]
    public async Task Given_two_triggers_further_apart_than_the_window_When_both_fire_Then_neither_is_lower_priority()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["Policy:caps:minimumGap"] = "00:00:00", ["Policy:caps:channels:email:max"] = "5",
        });
        await engine.Consent("ari");
        await engine.Batch(Calls.Added("ari", T0), Calls.SignedUp("ari", T0.AddMinutes(40)));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("ari", "welcome"));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("ari", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_an_arbitration_window_of_zero_When_the_cart_is_abandoned_Then_it_is_decided_when_it_fires()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string> { ["Policy:arbitrationWindow"] = "00:00:00" });
        await engine.Consent("ari");
        await engine.Batch(Calls.Added("ari", T0));
        await engine.Watermark(T0.AddMinutes(30));
        var d = Assert.Single(await engine.FinalRecords("ari", "abandoned_cart"));
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(30)), (string?)d["firedAt"]);
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(30)), (string?)d["decidedAt"]);
    }

    // ---- the decision record ----

    [Fact]
    public async Task Given_a_sent_abandoned_cart_When_explained_Then_the_record_has_every_field_of_the_contract()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("rec");
        await engine.Batch(
            Calls.Track("rec", "Product Added", T0, new { product_id = "sku-1", quantity = 2, price = 20, cart_id = "c1" }, "add-1"),
            Calls.Track("rec", "Product Added", T0.AddMinutes(5), new { product_id = "sku-2", quantity = 1, price = 5, cart_id = "c1" }, "add-2"));
        await engine.Watermark(T0.AddHours(1));

        var d = Assert.Single(await engine.FinalRecords("rec", "abandoned_cart"));
        Assert.Matches("^[0-9a-f-]{36}$", (string)d["decisionId"]!);
        Assert.Equal("rec", (string?)d["customerId"]);
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.True(d.AsObject().ContainsKey("suppressedBy"));
        Assert.Null((string?)d["suppressedBy"]);
        Assert.Equal("email", (string?)d["channel"]);
        Assert.Equal("cart_reminders", (string?)d["purpose"]);
        Assert.Equal(80, (int)d["priority"]!);
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(35)), (string?)d["firedAt"]);
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(36)), (string?)d["decidedAt"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)d["reason"]));
        Assert.Equal(["add-1", "add-2"], d["basedOn"]!.AsArray().Select(x => (string)x!).Order().ToArray());
        var items = d["payload"]!["items"]!.AsArray();
        Assert.Equal(2, items.Count);

        // The watermark returned only once the decision was in the file: no waiting.
        var line = JsonNode.Parse(File.ReadAllLines(engine.DecisionFile).First(l => l.Contains((string)d["decisionId"]!)))!;
        Assert.Equal("sent", (string?)line["outcome"]);
        Assert.Equal("rec", (string?)line["customerId"]);
    }
}
