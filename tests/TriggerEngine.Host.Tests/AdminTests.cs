using System.Net;

namespace TriggerEngine.Host.Tests;

/// <summary>SPEC 5 and 6 admin surface: watermark, explain, erasure, health and metrics.</summary>
public sealed class AdminTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);

    private static async Task AssertStatus(HttpResponseMessage r, HttpStatusCode status)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(status == r.StatusCode, $"expected {(int)status}, got {(int)r.StatusCode}: {text}");
    }

    // ---- watermark ----

    [Fact]
    public async Task Given_a_watermark_When_moved_backwards_Then_409()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Watermark(T0);
        var r = await engine.Send(HttpMethod.Post, "/v1/admin/watermark", Json(new { to = EngineProcess.Iso(T0.AddHours(-1)) }), "admin");
        await AssertStatus(r, HttpStatusCode.Conflict);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Given_events_that_moved_event_time_When_the_watermark_is_set_before_them_Then_409()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Batch(Calls.Track("w", "Coupon Viewed", T0));
        var r = await engine.Send(HttpMethod.Post, "/v1/admin/watermark", Json(new { to = EngineProcess.Iso(T0.AddHours(-2)) }), "admin");
        await AssertStatus(r, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Given_the_wall_clock_mode_When_the_watermark_is_moved_Then_409()
    {
        await using var engine = await EngineProcess.StartAsync(clock: "wall");
        var r = await engine.Send(HttpMethod.Post, "/v1/admin/watermark",
            Json(new { to = EngineProcess.Iso(DateTimeOffset.UtcNow.AddDays(1)) }), "admin");
        await AssertStatus(r, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Given_an_event_older_than_the_watermark_When_it_starts_a_timer_already_due_Then_it_is_decided_at_the_instant_it_was_due()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("late");
        await engine.Watermark(T0.AddDays(1));
        await engine.Batch(Calls.Added("late", T0));
        await engine.Watermark(T0.AddDays(1).AddMinutes(1));
        var d = Assert.Single(await engine.FinalRecords("late", "abandoned_cart"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(30)), (string?)d["firedAt"]);
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(31)), (string?)d["decidedAt"]);
    }

    [Fact]
    public async Task Given_the_watermark_moved_in_small_steps_When_the_cart_is_abandoned_Then_decidedAt_is_the_instant_it_was_due()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("steps");
        await engine.Batch(Calls.Added("steps", T0));
        for (var m = 7; m <= 63; m += 7) await engine.Watermark(T0.AddMinutes(m));
        var d = Assert.Single(await engine.FinalRecords("steps", "abandoned_cart"));
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(31)), (string?)d["decidedAt"]);
    }

    [Fact]
    public async Task Given_a_watermark_past_the_due_time_When_a_late_cart_event_arrives_Then_it_is_decided_without_another_watermark_move()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("late");
        await engine.Watermark(T0.AddDays(1));
        await engine.Batch(Calls.Added("late", T0));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("late", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_an_open_cart_When_later_events_of_another_customer_move_event_time_past_it_Then_it_is_decided()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("a");
        await engine.Batch(Calls.Added("a", T0));
        // Watermark = latest event time - allowed lateness (1 min) = T0 + 32 min.
        await engine.Batch(Calls.Track("b", "Coupon Viewed", T0.AddMinutes(33)));
        var d = Assert.Single(await engine.FinalRecords("a", "abandoned_cart"));
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(31)), (string?)d["decidedAt"]);
    }

    [Fact]
    public async Task Given_a_call_without_timestamp_in_event_clock_mode_When_applied_Then_it_happens_at_the_watermark()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("nots");
        await engine.Watermark(T0);
        await engine.SendOk(HttpMethod.Post, "/v1/track", new
        {
            type = "track", userId = "nots", @event = "Product Added", messageId = "nt-1",
            properties = new { product_id = "sku-1", quantity = 1, price = 20, cart_id = "c1" },
        });
        await engine.Watermark(T0.AddHours(1));
        var d = Assert.Single(await engine.FinalRecords("nots", "abandoned_cart"));
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(30)), (string?)d["firedAt"]);
    }

    [Fact]
    public async Task Given_a_catalog_feed_with_an_invalid_product_When_posted_Then_the_valid_ones_are_accepted_and_the_index_rejected()
    {
        await using var engine = await EngineProcess.StartAsync();
        var r = await engine.Send(HttpMethod.Post, "/v1/catalog", Json(new
        {
            products = new object[] { new { price = 10m }, new { product_id = "sku-ok", price = 10m, timestamp = EngineProcess.Iso(T0) } },
        }), "admin");
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, text);
        var x = System.Text.Json.Nodes.JsonNode.Parse(text)!;
        Assert.False((bool)x["success"]!);
        Assert.Equal(1, (int)x["accepted"]!);
        Assert.Equal(0, (int)x["rejected"]![0]!["index"]!);
    }

    // ---- explain ----

    [Fact]
    public async Task Given_an_unknown_customer_When_explained_Then_404()
    {
        await using var engine = await EngineProcess.StartAsync();
        var r = await engine.Send(HttpMethod.Get, "/v1/customers/never-seen", auth: "admin");
        await AssertStatus(r, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Given_an_open_cart_When_explained_Then_the_active_abandoned_cart_shows_its_due_time_and_the_caps_are_listed()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ex");
        await engine.Batch(Calls.Added("ex", T0, cartId: "c1"));
        var x = (await engine.Explain("ex"))!;

        var active = Assert.Single(x["activeScenarios"]!.AsArray(), a => (string?)a!["scenario"] == "abandoned_cart")!;
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(30)), (string?)active["dueAt"]);
        Assert.NotEmpty(x["caps"]!.AsArray());
        Assert.True((bool)x["consent"]!["channels"]!["email"]!);
        Assert.Empty(x["decisions"]!.AsArray());
    }

    [Fact]
    public async Task Given_a_sent_email_When_explained_Then_the_email_cap_counter_shows_it_used()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ex");
        await engine.Batch(Calls.Added("ex", T0, cartId: "c1"));
        await engine.Watermark(T0.AddHours(1));
        var x = (await engine.Explain("ex"))!;
        var caps = x["caps"]!.AsArray().Select(c => c!).ToList();
        var email = Assert.Single(caps, c => (string?)c["cap"] == "email");
        Assert.Equal(1, (int)email["used"]!);
        Assert.Equal(1, (int)email["limit"]!);
        var global = Assert.Single(caps, c => (string?)c["cap"] == "global");
        Assert.Equal(1, (int)global["used"]!);
        Assert.Equal(3, (int)global["limit"]!);
        Assert.Equal("sent", (string?)x["decisions"]!.AsArray().Last()!["outcome"]);
    }

    [Fact]
    public async Task Given_several_decisions_When_explained_Then_they_are_listed_newest_last()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Batch(Calls.SignedUp("ord", T0), Calls.Added("ord", T0.AddHours(1)));
        await engine.Watermark(T0.AddHours(3));
        var decisions = await engine.Decisions("ord");
        Assert.Equal(["welcome", "abandoned_cart"], decisions.Select(d => (string)d!["scenario"]!).ToArray());
    }

    // ---- erasure ----

    [Fact]
    public async Task Given_a_customer_with_history_and_consent_When_deleted_Then_explain_and_consent_are_404()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("gdpr");
        await engine.Batch(Calls.Added("gdpr", T0));
        await engine.Watermark(T0.AddHours(1));

        var r = await engine.Send(HttpMethod.Delete, "/v1/customers/gdpr", auth: "admin");
        Assert.True(r.IsSuccessStatusCode, $"{(int)r.StatusCode}");

        await AssertStatus(await engine.Send(HttpMethod.Get, "/v1/customers/gdpr", auth: "admin"), HttpStatusCode.NotFound);
        await AssertStatus(await engine.Send(HttpMethod.Get, "/v1/consent/gdpr", auth: "admin"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Given_a_customer_in_the_journal_and_the_state_table_When_deleted_Then_no_row_holds_their_id()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("gdpr-rows");
        await engine.Batch(Calls.Added("gdpr-rows", T0), Calls.Added("bystander", T0));
        await engine.SendOk(HttpMethod.Post, "/v1/admin/checkpoint", null, "admin"); // state rows exist
        await engine.Batch(Calls.Viewed("gdpr-rows", T0.AddMinutes(1))); // and a journal row after the checkpoint
        Assert.True(RowsMentioning(engine, "engine.db", "gdpr-rows") + RowsMentioning(engine, "state.db", "gdpr-rows") > 0);

        Assert.True((await engine.Send(HttpMethod.Delete, "/v1/customers/gdpr-rows", auth: "admin")).IsSuccessStatusCode);

        Assert.Equal(0, RowsMentioning(engine, "engine.db", "gdpr-rows"));
        Assert.Equal(0, RowsMentioning(engine, "state.db", "gdpr-rows"));
        Assert.Equal("bystander", (string?)(await engine.Explain("bystander"))!["customerId"]);
    }

    [Fact]
    public async Task Given_decisions_saved_in_a_checkpoint_When_explained_and_then_erased_Then_they_live_in_rows_of_their_own_until_the_erasure()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Batch(Calls.SignedUp("rowan", T0), Calls.Added("rowan", T0.AddHours(1)));
        await engine.Watermark(T0.AddHours(3));
        var before = (await engine.Decisions("rowan")).Select(d => (string)d!["decisionId"]!).ToArray();
        Assert.Equal(2, before.Length);
        await engine.SendOk(HttpMethod.Post, "/v1/admin/checkpoint", null, "admin");

        // Each record is a row of kind "d", written once; the customer's own row no longer carries them.
        Assert.Equal(2, StateRows(engine, "d", "rowan"));
        Assert.Equal(0, StateRows(engine, "c", before[0]));
        Assert.Equal(before, (await engine.Decisions("rowan")).Select(d => (string)d!["decisionId"]!).ToArray());

        Assert.True((await engine.Send(HttpMethod.Delete, "/v1/customers/rowan", auth: "admin")).IsSuccessStatusCode);
        Assert.Equal(0, StateRows(engine, "d", "rowan"));
    }

    /// <summary>Rows of <c>entity_state</c> of one kind whose id or state holds <paramref name="text"/>.</summary>
    private static long StateRows(EngineProcess engine, string kind, string text)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(engine.DataDirectory, "state.db")};Mode=ReadOnly");
        db.Open();
        using var count = db.CreateCommand();
        count.CommandText = "SELECT count(*) FROM entity_state WHERE kind = $k AND " +
                            "(instr(CAST(id AS BLOB), CAST($t AS BLOB)) > 0 OR instr(state, CAST($t AS BLOB)) > 0)";
        count.Parameters.AddWithValue("$k", kind);
        count.Parameters.AddWithValue("$t", text);
        return (long)count.ExecuteScalar()!;
    }

    /// <summary>Rows of every table in a SQLite file of the data directory whose any column holds <paramref name="text"/>.</summary>
    private static long RowsMentioning(EngineProcess engine, string file, string text)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(engine.DataDirectory, file)};Mode=ReadOnly");
        db.Open();
        var tables = new List<string>();
        using (var list = db.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            using var r = list.ExecuteReader();
            while (r.Read()) tables.Add(r.GetString(0));
        }
        long found = 0;
        foreach (var table in tables)
        {
            var columns = new List<string>();
            using (var info = db.CreateCommand())
            {
                info.CommandText = $"PRAGMA table_info(\"{table}\")";
                using var r = info.ExecuteReader();
                while (r.Read()) columns.Add(r.GetString(1));
            }
            using var count = db.CreateCommand();
            count.CommandText = $"SELECT count(*) FROM \"{table}\" WHERE " +
                string.Join(" OR ", columns.Select(c => $"instr(CAST(\"{c}\" AS BLOB), CAST($t AS BLOB)) > 0"));
            count.Parameters.AddWithValue("$t", text);
            found += (long)count.ExecuteScalar()!;
        }
        return found;
    }

    [Fact]
    public async Task Given_an_erased_customer_When_they_come_back_Then_the_old_cap_counters_are_gone()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("gdpr");
        await engine.Batch(Calls.Added("gdpr", T0, cartId: "c1"));
        await engine.Watermark(T0.AddHours(1));
        Assert.True((await engine.Send(HttpMethod.Delete, "/v1/customers/gdpr", auth: "admin")).IsSuccessStatusCode);

        await engine.Consent("gdpr");
        await engine.Batch(Calls.Added("gdpr", T0.AddHours(2), cartId: "c2"));
        await engine.Watermark(T0.AddHours(4));
        var d = Assert.Single(await engine.FinalRecords("gdpr", "abandoned_cart"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal("c2", (string?)d["payload"]!["cart_id"]);
    }

    [Fact]
    public async Task Given_an_erased_customer_who_had_viewed_a_product_When_its_price_drops_Then_the_customer_stays_erased()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Catalog(new { product_id = "sku-p", price = 100m, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Viewed("gdpr", T0.AddHours(1), "sku-p", price: 100));
        Assert.True((await engine.Send(HttpMethod.Delete, "/v1/customers/gdpr", auth: "admin")).IsSuccessStatusCode);
        await engine.Catalog(new { product_id = "sku-p", price = 50m, timestamp = EngineProcess.Iso(T0.AddHours(2)) });
        await engine.Watermark(T0.AddHours(3));
        await AssertStatus(await engine.Send(HttpMethod.Get, "/v1/customers/gdpr", auth: "admin"), HttpStatusCode.NotFound);
    }

    // ---- health and metrics ----

    [Fact]
    public async Task Given_a_running_engine_When_probed_Then_live_ready_and_Prometheus_metrics_answer()
    {
        await using var engine = await EngineProcess.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await engine.Http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await engine.Http.GetAsync("/health/ready")).StatusCode);

        await engine.Batch(Calls.Track("m", "Coupon Viewed", T0));
        var metrics = await engine.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE ", text);
        Assert.Contains("# HELP ", text);
    }

    private static StringContent Json(object body) =>
        new(System.Text.Json.JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
