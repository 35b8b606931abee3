using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;

namespace TriggerEngine.Host.Tests;

/// <summary>SPEC 2: the Segment-compatible ingestion API (auth, content types, limits, dedup, identity).</summary>
public sealed class IngestionTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);

    private static StringContent Json(string text, string mediaType = "application/json") => new(text, Encoding.UTF8, mediaType);

    private static string Serialize(object o) => JsonSerializer.Serialize(o);

    private static async Task AssertProblem(HttpResponseMessage r, HttpStatusCode status)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(status == r.StatusCode, $"expected {(int)status}, got {(int)r.StatusCode}: {text}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(text)!;
        Assert.Equal((int)status, (int)body["status"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)body["detail"]));
    }

    private static async Task AssertUnknown(EngineProcess engine, string customerId)
    {
        var r = await engine.Send(HttpMethod.Get, $"/v1/customers/{customerId}", auth: "admin");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    private static async Task<JsonNode> AssertSuccess(HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"{(int)r.StatusCode}: {text}");
        var body = JsonNode.Parse(text)!;
        Assert.True((bool)body["success"]!, text);
        return body;
    }

    private static async Task<string[]> HistoryEvents(EngineProcess engine, string customerId) =>
        (await engine.Explain(customerId))!["history"]!.AsArray().Select(h => (string)h!["event"]!).ToArray();

    // ---- dedup and identity ----

    [Fact]
    public async Task Given_a_call_sent_twice_in_a_batch_and_once_more_later_When_the_cart_is_abandoned_Then_it_counted_once()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("dan");
        var add = Calls.Track("dan", "Product Added", T0, new { product_id = "sku-1", quantity = 1, price = 20, cart_id = "c1" }, "dup-1");
        await engine.Batch(add, add);
        var again = await engine.Batch(add);
        Assert.True((bool)again!["success"]!);
        await engine.Watermark(T0.AddHours(1));

        Assert.Equal(["Product Added"], await HistoryEvents(engine, "dan"));
        var d = Assert.Single(await engine.FinalRecords("dan", "abandoned_cart"));
        var item = Assert.Single(d["payload"]!["items"]!.AsArray());
        Assert.Equal(1, (int)item!["quantity"]!);
    }

    [Fact]
    public async Task Given_an_anonymous_cart_When_identify_links_it_to_a_user_Then_the_user_gets_the_abandoned_cart()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("dave");
        await engine.Batch(Calls.Anonymous("anon-1", "Product Added", T0,
            new { product_id = "sku-1", quantity = 1, price = 20, cart_id = "ac" }, "anon-add"));
        await engine.Batch(Calls.Identify("dave", "anon-1", T0.AddMinutes(5)));
        await engine.Watermark(T0.AddHours(1));

        var d = Assert.Single(await engine.FinalRecords("dave", "abandoned_cart"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal("dave", (string?)d["customerId"]);
        Assert.Contains("anon-add", d["basedOn"]!.AsArray().Select(x => (string)x!));
    }

    [Fact]
    public async Task Given_an_identified_visitor_When_later_calls_carry_only_the_anonymousId_Then_they_reach_the_known_customer()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("dave");
        await engine.Batch(Calls.Identify("dave", "anon-2", T0));
        await engine.Batch(Calls.Anonymous("anon-2", "Product Added", T0.AddMinutes(1),
            new { product_id = "sku-1", quantity = 1, price = 20, cart_id = "ac" }));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("dave", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_an_anonymous_view_then_identify_When_the_price_drops_Then_the_known_customer_gets_price_drop()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("dave");
        await engine.Catalog(new { product_id = "sku-p", price = 100m, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Anonymous("anon-3", "Product Viewed", T0.AddHours(1), new { product_id = "sku-p", price = 100 }));
        await engine.Batch(Calls.Identify("dave", "anon-3", T0.AddHours(2)));
        await engine.Catalog(new { product_id = "sku-p", price = 80m, timestamp = EngineProcess.Iso(T0.AddHours(3)) });
        await engine.Watermark(T0.AddHours(4));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("dave", "price_drop"));
    }

    [Fact]
    public async Task Given_a_lower_price_seen_anonymously_When_the_customer_later_carts_it_dearer_Then_the_drop_is_measured_from_the_anonymous_price()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("erin");
        await engine.Catalog(new { product_id = "sku-q", price = 105.93m, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Anonymous("anon-4", "Product Viewed", T0.AddHours(1), new { product_id = "sku-q", price = 105.93 },
            messageId: "anon-view"));
        await engine.Batch(Calls.Identify("erin", "anon-4", T0.AddHours(2)));
        await engine.Catalog(new { product_id = "sku-q", price = 123.57m, timestamp = EngineProcess.Iso(T0.AddDays(1)) });
        await engine.Batch(Calls.Added("erin", T0.AddDays(2), productId: "sku-q", price: 123.57m));
        // 98.86 is 20 % below the cart price but only 6.7 % below the 105.93 the same person saw before identify.
        await engine.Catalog(new { product_id = "sku-q", price = 98.86m, timestamp = EngineProcess.Iso(T0.AddDays(3)) });
        await engine.Watermark(T0.AddDays(3).AddHours(1));
        Assert.Empty(await engine.Finals("erin", "price_drop"));

        await engine.Catalog(new { product_id = "sku-q", price = 90m, timestamp = EngineProcess.Iso(T0.AddDays(4)) });
        await engine.Watermark(T0.AddDays(4).AddHours(1));
        var d = Assert.Single(await engine.FinalRecords("erin", "price_drop"));
        Assert.Contains("anon-view", d["basedOn"]!.AsArray().Select(x => (string)x!));
        Assert.Empty(await engine.Finals("anon:anon-4", "price_drop"));
    }

    // ---- partial acceptance and limits ----

    [Fact]
    public async Task Given_a_batch_with_invalid_calls_When_posted_Then_200_with_accepted_count_and_rejected_indexes_and_the_valid_calls_applied()
    {
        await using var engine = await EngineProcess.StartAsync();
        var body = new
        {
            batch = new object[]
            {
                Calls.Track("pat", "Coupon Viewed", T0),
                new { type = "track", @event = "Product Added", timestamp = EngineProcess.Iso(T0), messageId = "no-ids" },
                Calls.Track("pat", "Checkout Started", T0.AddMinutes(1)),
                new { type = "bogus", userId = "pat", messageId = "bad-type" },
                new { type = "track", userId = "pat", @event = "Coupon Viewed", timestamp = "not a time", messageId = "bad-time" },
            },
        };
        var r = await engine.Send(HttpMethod.Post, "/v1/batch", Json(Serialize(body)));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, text);
        var x = JsonNode.Parse(text)!;
        Assert.False((bool)x["success"]!);
        Assert.Equal(2, (int)x["accepted"]!);
        var rejected = x["rejected"]!.AsArray();
        Assert.Equal([1, 3, 4], rejected.Select(e => (int)e!["index"]!).ToArray());
        Assert.All(rejected, e => Assert.False(string.IsNullOrWhiteSpace((string?)e!["error"])));
        Assert.Equal(["Coupon Viewed", "Checkout Started"], await HistoryEvents(engine, "pat"));
    }

    [Fact]
    public async Task Given_a_batch_with_one_call_over_32_KB_When_posted_Then_that_index_is_rejected_and_the_rest_accepted()
    {
        await using var engine = await EngineProcess.StartAsync();
        var body = new
        {
            batch = new object[]
            {
                Calls.Track("big", "Coupon Viewed", T0),
                Calls.Track("big", "Huge Event", T0, new { blob = new string('x', 40 * 1024) }),
            },
        };
        var r = await engine.Send(HttpMethod.Post, "/v1/batch", Json(Serialize(body)));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, text);
        var x = JsonNode.Parse(text)!;
        Assert.False((bool)x["success"]!);
        Assert.Equal(1, (int)x["accepted"]!);
        Assert.Equal(1, (int)Assert.Single(x["rejected"]!.AsArray())!["index"]!);
        Assert.Equal(["Coupon Viewed"], await HistoryEvents(engine, "big"));
    }

    [Fact]
    public async Task Given_malformed_JSON_When_posted_Then_400_problem_json_and_nothing_applied()
    {
        await using var engine = await EngineProcess.StartAsync();
        var valid = Serialize(new { batch = new[] { Calls.Track("mal", "Coupon Viewed", T0) } });
        var r = await engine.Send(HttpMethod.Post, "/v1/batch", Json(valid[..^3]));
        await AssertProblem(r, HttpStatusCode.BadRequest);
        await AssertUnknown(engine, "mal");
    }

    [Fact]
    public async Task Given_an_unsupported_content_type_When_posted_Then_415_problem_json_and_nothing_applied()
    {
        await using var engine = await EngineProcess.StartAsync();
        var r = await engine.Send(HttpMethod.Post, "/v1/track", Json(Serialize(Calls.Track("ct", "Coupon Viewed", T0)), "application/xml"));
        await AssertProblem(r, HttpStatusCode.UnsupportedMediaType);
        await AssertUnknown(engine, "ct");
    }

    [Fact]
    public async Task Given_a_body_over_500_KB_When_posted_Then_413_problem_json_and_nothing_applied()
    {
        await using var engine = await EngineProcess.StartAsync();
        var calls = Enumerable.Range(0, 25)
            .Select(i => Calls.Track("huge", "Padded Event", T0.AddSeconds(i), new { pad = new string('y', 24 * 1024) })).ToArray();
        var text = Serialize(new { batch = calls });
        Assert.True(text.Length > 500 * 1024);
        var r = await engine.Send(HttpMethod.Post, "/v1/batch", Json(text));
        await AssertProblem(r, HttpStatusCode.RequestEntityTooLarge);
        await AssertUnknown(engine, "huge");
    }

    [Fact]
    public async Task Given_a_batch_of_2501_calls_When_posted_Then_413_problem_json_and_nothing_applied()
    {
        await using var engine = await EngineProcess.StartAsync();
        var calls = Enumerable.Range(0, 2501).Select(i => new { type = "track", userId = "many", @event = "E", messageId = "m" + i }).ToArray();
        var r = await engine.Send(HttpMethod.Post, "/v1/batch", Json(Serialize(new { batch = calls })));
        await AssertProblem(r, HttpStatusCode.RequestEntityTooLarge);
        await AssertUnknown(engine, "many");
    }

    [Fact]
    public async Task Given_a_batch_of_exactly_2500_calls_When_posted_Then_all_are_accepted()
    {
        await using var engine = await EngineProcess.StartAsync();
        var calls = Enumerable.Range(0, 2500).Select(i => new
        {
            type = "track", userId = "many-" + (i % 50), @event = "E", messageId = "m" + i, timestamp = EngineProcess.Iso(T0.AddSeconds(i)),
        }).ToArray();
        var r = await engine.Send(HttpMethod.Post, "/v1/batch", Json(Serialize(new { batch = calls })));
        await AssertSuccess(r);
        Assert.NotEmpty(await HistoryEvents(engine, "many-7"));
    }

    [Fact]
    public async Task Given_the_heap_over_the_engines_memory_budget_When_a_batch_is_posted_Then_503_with_Retry_After_and_nothing_applied()
    {
        // A one-byte budget: the guard presses at its first look at the heap (every 250 ms).
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string> { ["Cluster:MemoryBudgetBytes"] = "1" });
        HttpResponseMessage r;
        string customer;
        var (attempt, deadline) = (0, DateTime.UtcNow.AddSeconds(10));
        do
        {
            customer = $"mia-{++attempt}";
            var call = Calls.Track(customer, "Product Viewed", T0, new { product_id = "sku-1", price = 20 });
            r = await engine.Send(HttpMethod.Post, "/v1/batch", Json(Serialize(new { batch = new[] { call } })));
        }
        while (r.StatusCode == HttpStatusCode.OK && DateTime.UtcNow < deadline && await Task.Delay(100).ContinueWith(_ => true));

        await AssertProblem(r, HttpStatusCode.ServiceUnavailable);
        await AssertUnknown(engine, customer);
        Assert.NotNull(r.Headers.RetryAfter);
        Assert.Contains("memory", await r.Content.ReadAsStringAsync());
        var metrics = await engine.Http.GetStringAsync("/metrics");
        Assert.Contains("trigger_engine_memory_pressed 1", metrics);
    }

    // ---- auth ----

    [Fact]
    public async Task Given_no_key_When_tracking_Then_401_problem_json()
    {
        await using var engine = await EngineProcess.StartAsync();
        var r = await engine.Send(HttpMethod.Post, "/v1/track", Json(Serialize(Calls.Track("k", "Coupon Viewed", T0))), auth: "none");
        await AssertProblem(r, HttpStatusCode.Unauthorized);
        await AssertUnknown(engine, "k");
    }

    [Fact]
    public async Task Given_an_unknown_write_key_When_tracking_Then_401()
    {
        await using var engine = await EngineProcess.StartAsync();
        var req = new HttpRequestMessage(HttpMethod.Post, "/v1/track") { Content = Json(Serialize(Calls.Track("k", "Coupon Viewed", T0))) };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("wrong-key:")));
        var r = await engine.Http.SendAsync(req);
        await AssertProblem(r, HttpStatusCode.Unauthorized);
        await AssertUnknown(engine, "k");
    }

    [Fact]
    public async Task Given_an_unknown_writeKey_in_the_body_When_tracking_Then_401()
    {
        await using var engine = await EngineProcess.StartAsync();
        var body = new Dictionary<string, object?>
        {
            ["type"] = "track", ["userId"] = "k", ["event"] = "Coupon Viewed", ["writeKey"] = "wrong-key",
        };
        var r = await engine.Send(HttpMethod.Post, "/v1/track", Json(Serialize(body)), auth: "none");
        await AssertProblem(r, HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("GET", "/v1/customers/someone")]
    [InlineData("DELETE", "/v1/customers/someone")]
    [InlineData("GET", "/v1/consent/someone")]
    [InlineData("PUT", "/v1/consent/someone")]
    [InlineData("POST", "/v1/catalog")]
    [InlineData("POST", "/v1/admin/watermark")]
    public async Task Given_a_valid_write_key_When_calling_an_admin_endpoint_Then_403(string method, string path)
    {
        await using var engine = await EngineProcess.StartAsync();
        HttpContent? content = method is "PUT" or "POST" ? Json("""{"products": [], "to": "2030-01-07T10:00:00Z", "channels": {"email": true}}""") : null;

        var basic = await engine.Send(new HttpMethod(method), path, content, auth: "write");
        await AssertProblem(basic, HttpStatusCode.Forbidden);

        var bearer = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method is "PUT" or "POST" ? Json("""{"products": [], "to": "2030-01-07T10:00:00Z"}""") : null,
        };
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EngineProcess.WriteKey);
        await AssertProblem(await engine.Http.SendAsync(bearer), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Given_no_key_or_an_unknown_key_When_calling_an_admin_endpoint_Then_401_and_the_admin_key_works()
    {
        await using var engine = await EngineProcess.StartAsync();
        await AssertProblem(await engine.Send(HttpMethod.Get, "/v1/consent/x", auth: "none"), HttpStatusCode.Unauthorized);

        var unknown = new HttpRequestMessage(HttpMethod.Get, "/v1/consent/x");
        unknown.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-key");
        await AssertProblem(await engine.Http.SendAsync(unknown), HttpStatusCode.Unauthorized);

        await engine.Consent("x");
        var ok = await engine.Send(HttpMethod.Get, "/v1/consent/x", auth: "admin");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Given_the_writeKey_in_the_body_and_no_header_When_posting_a_batch_Then_it_is_accepted()
    {
        await using var engine = await EngineProcess.StartAsync();
        var body = Serialize(new { batch = new[] { Calls.Track("wk", "Coupon Viewed", T0) }, writeKey = EngineProcess.WriteKey });
        await AssertSuccess(await engine.Send(HttpMethod.Post, "/v1/batch", Json(body), auth: "none"));
        Assert.Equal(["Coupon Viewed"], await HistoryEvents(engine, "wk"));
    }

    // ---- content types and encodings ----

    [Fact]
    public async Task Given_JSON_sent_as_text_plain_with_the_writeKey_in_the_body_When_tracking_Then_it_is_accepted()
    {
        await using var engine = await EngineProcess.StartAsync();
        var call = new Dictionary<string, object?>
        {
            ["userId"] = "tp", ["event"] = "Coupon Viewed", ["timestamp"] = EngineProcess.Iso(T0), ["messageId"] = "tp-1",
            ["writeKey"] = EngineProcess.WriteKey, ["type"] = "track",
        };
        await AssertSuccess(await engine.Send(HttpMethod.Post, "/v1/track", Json(Serialize(call), "text/plain"), auth: "none"));
        Assert.Equal(["Coupon Viewed"], await HistoryEvents(engine, "tp"));
    }

    [Fact]
    public async Task Given_a_gzip_compressed_batch_When_posted_Then_it_is_accepted()
    {
        await using var engine = await EngineProcess.StartAsync();
        var raw = Encoding.UTF8.GetBytes(Serialize(new { batch = new[] { Calls.Track("gz", "Coupon Viewed", T0) } }));
        using var packed = new MemoryStream();
        await using (var gzip = new GZipStream(packed, CompressionLevel.Optimal, leaveOpen: true)) await gzip.WriteAsync(raw);
        var content = new ByteArrayContent(packed.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        await AssertSuccess(await engine.Send(HttpMethod.Post, "/v1/batch", content));
        Assert.Equal(["Coupon Viewed"], await HistoryEvents(engine, "gz"));
    }

    [Fact]
    public async Task Given_a_MessagePack_batch_When_posted_as_application_x_msgpack_Then_it_is_accepted_and_applied()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("mp");
        var json = Serialize(new { batch = new[] { Calls.Added("mp", T0) } });
        var content = new ByteArrayContent(MessagePackSerializer.ConvertFromJson(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-msgpack");
        await AssertSuccess(await engine.Send(HttpMethod.Post, "/v1/batch", content));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("mp", "abandoned_cart"));
    }

    // ---- CORS ----

    [Fact]
    public async Task Given_a_browser_preflight_When_OPTIONS_on_track_Then_the_origin_is_allowed()
    {
        await using var engine = await EngineProcess.StartAsync();
        var req = new HttpRequestMessage(HttpMethod.Options, "/v1/track");
        req.Headers.Add("Origin", "https://shop.example");
        req.Headers.Add("Access-Control-Request-Method", "POST");
        req.Headers.Add("Access-Control-Request-Headers", "content-type");
        var r = await engine.Http.SendAsync(req);
        Assert.True(r.IsSuccessStatusCode, $"{(int)r.StatusCode}");
        Assert.True(r.Headers.TryGetValues("Access-Control-Allow-Origin", out var origins));
        Assert.Contains(origins!.Single(), new[] { "*", "https://shop.example" });
    }

    [Fact]
    public async Task Given_allowed_origins_configured_When_another_origin_sends_a_preflight_Then_it_is_not_allowed()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["Http:CorsOrigins:0"] = "https://shop.example",
        });
        async Task<HttpResponseMessage> Preflight(string origin)
        {
            var req = new HttpRequestMessage(HttpMethod.Options, "/v1/batch");
            req.Headers.Add("Origin", origin);
            req.Headers.Add("Access-Control-Request-Method", "POST");
            return await engine.Http.SendAsync(req);
        }
        var allowed = await Preflight("https://shop.example");
        Assert.Equal("https://shop.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var other = await Preflight("https://evil.example");
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Given_a_browser_post_with_an_Origin_When_tracking_Then_the_response_allows_that_origin()
    {
        await using var engine = await EngineProcess.StartAsync();
        var req = engine.Request(HttpMethod.Post, "/v1/track", Calls.Track("co", "Coupon Viewed", T0));
        req.Headers.Add("Origin", "https://shop.example");
        var r = await engine.Http.SendAsync(req);
        await AssertSuccess(r);
        Assert.True(r.Headers.Contains("Access-Control-Allow-Origin"));
    }

    // ---- single-call endpoints ----

    [Fact]
    public async Task Given_one_track_call_When_posted_to_v1_track_Then_success_and_it_is_applied()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("one");
        var body = await engine.SendOk(HttpMethod.Post, "/v1/track", Calls.Added("one", T0));
        Assert.True((bool)body!["success"]!);
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("one", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_a_track_call_without_userId_or_anonymousId_When_posted_to_v1_track_Then_400()
    {
        await using var engine = await EngineProcess.StartAsync();
        var r = await engine.Send(HttpMethod.Post, "/v1/track",
            Json(Serialize(new { type = "track", @event = "Coupon Viewed", timestamp = EngineProcess.Iso(T0) })));
        await AssertProblem(r, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Given_an_identify_call_with_traits_When_posted_to_v1_identify_Then_the_traits_are_kept()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.SendOk(HttpMethod.Post, "/v1/identify", Calls.Identify("ida", null, T0, new { email = "ida@example.com", plan = "gold" }));
        var x = await engine.Explain("ida");
        Assert.Equal("gold", (string?)x!["traits"]!["plan"]);
    }

    [Fact]
    public async Task Given_three_page_calls_with_a_product_id_When_the_quiet_period_passes_Then_they_counted_as_views()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("pg");
        await engine.SendOk(HttpMethod.Post, "/v1/page", Calls.Page("pg", T0, "sku-v"));
        await engine.SendOk(HttpMethod.Post, "/v1/page", Calls.Page("pg", T0.AddMinutes(5), "sku-v"));
        await engine.SendOk(HttpMethod.Post, "/v1/screen", Calls.Page("pg", T0.AddMinutes(10), "sku-v", "screen"));
        await engine.Watermark(T0.AddHours(2));
        var d = Assert.Single(await engine.FinalRecords("pg", "browse_abandonment"));
        Assert.Equal("sku-v", (string?)d["payload"]!["product"]!["product_id"]);
    }

    [Fact]
    public async Task Given_a_timestamp_with_a_UTC_offset_When_applied_Then_event_time_is_that_instant()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("off");
        await engine.SendOk(HttpMethod.Post, "/v1/track", new Dictionary<string, object?>
        {
            ["type"] = "track", ["userId"] = "off", ["event"] = "Product Added", ["messageId"] = "off-1",
            ["timestamp"] = "2030-01-07T11:00:00+01:00",
            ["properties"] = new { product_id = "sku-1", quantity = 1, price = 20, cart_id = "c1" },
        });
        await engine.Watermark(T0.AddHours(1));
        var d = Assert.Single(await engine.FinalRecords("off", "abandoned_cart"));
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(30)), (string?)d["firedAt"]);
    }

    [Fact]
    public async Task Given_an_event_name_the_scenarios_do_not_know_When_tracked_Then_it_is_kept_in_history_and_changes_nothing()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("oth");
        await engine.Batch(Calls.Track("oth", "Coupon Applied", T0, new { coupon = "X" }));
        await engine.Watermark(T0.AddDays(40));
        var x = await engine.Explain("oth");
        Assert.Equal(["Coupon Applied"], x!["history"]!.AsArray().Select(h => (string)h!["event"]!).ToArray());
        Assert.Empty(x["decisions"]!.AsArray());
        Assert.Empty(x["activeScenarios"]!.AsArray());
    }
}
