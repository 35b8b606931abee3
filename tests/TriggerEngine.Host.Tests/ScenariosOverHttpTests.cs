using System.Text.Json.Nodes;

namespace TriggerEngine.Host.Tests;

/// <summary>SPEC 3: every scenario other than abandoned_cart, through the HTTP API in event-clock mode.</summary>
public sealed class ScenariosOverHttpTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);

    private static string[] BasedOn(JsonNode d) => d["basedOn"]!.AsArray().Select(x => (string)x!).ToArray();

    // ---- abandoned_cart, beyond the basic example ----

    [Fact]
    public async Task Given_a_cart_changed_20_minutes_after_it_opened_When_left_Then_the_delay_counts_from_the_last_change()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ab");
        await engine.Batch(Calls.Added("ab", T0, "sku-1"), Calls.Added("ab", T0.AddMinutes(20), "sku-2"));
        await engine.Watermark(T0.AddMinutes(45));
        Assert.Empty(await engine.Finals("ab", "abandoned_cart"));
        await engine.Watermark(T0.AddHours(2));
        var d = Assert.Single(await engine.FinalRecords("ab", "abandoned_cart"));
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(50)), (string?)d["firedAt"]);
    }

    [Fact]
    public async Task Given_a_cart_When_it_is_emptied_Then_abandoned_cart_does_not_fire()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ab");
        await engine.Batch(Calls.Added("ab", T0, "sku-1", cartId: "c1"),
            Calls.Track("ab", "Product Removed", T0.AddMinutes(5), new { product_id = "sku-1", quantity = 1, cart_id = "c1" }));
        await engine.Watermark(T0.AddHours(2));
        Assert.Empty(await engine.Finals("ab", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_an_open_cart_When_an_order_names_another_cart_Then_the_open_cart_still_fires()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ab");
        await engine.Batch(Calls.Added("ab", T0, "sku-1", cartId: "c1"),
            Calls.Order("ab", T0.AddMinutes(5), "o-1", "c2", new { product_id = "sku-9", quantity = 1, price = 5 }));
        await engine.Watermark(T0.AddHours(2));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("ab", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_an_open_cart_When_an_order_without_cart_id_completes_Then_abandoned_cart_does_not_fire()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ab");
        await engine.Batch(Calls.Added("ab", T0, "sku-1", cartId: "c1"),
            Calls.Order("ab", T0.AddMinutes(5), "o-1", null, new { product_id = "sku-1", quantity = 1, price = 20 }));
        await engine.Watermark(T0.AddHours(2));
        Assert.Empty(await engine.Finals("ab", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_a_reminded_cart_When_more_items_are_added_Then_it_is_not_reminded_again_without_followUp()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ab");
        await engine.Batch(Calls.Added("ab", T0, "sku-1", cartId: "c1"));
        await engine.Watermark(T0.AddHours(1));
        await engine.Batch(Calls.Added("ab", T0.AddDays(2), "sku-2", cartId: "c1"));
        await engine.Watermark(T0.AddDays(4));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("ab", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_followUp_of_24_hours_When_the_cart_stays_abandoned_Then_a_second_reminder_is_sent_24_hours_after_the_first()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["Scenarios:abandoned_cart:followUp"] = "1.00:00:00",
        });
        await engine.Consent("ab");
        await engine.Batch(Calls.Added("ab", T0, cartId: "c1"));
        await engine.Watermark(T0.AddDays(3));
        var finals = await engine.FinalRecords("ab", "abandoned_cart");
        Assert.Equal(["sent", "sent"], finals.Select(d => (string)d["outcome"]!).ToArray());
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(30)), (string?)finals[0]["firedAt"]);
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(30).AddDays(1)), (string?)finals[1]["firedAt"]);
        Assert.NotEqual((string?)finals[0]["decisionId"], (string?)finals[1]["decisionId"]);
    }

    [Fact]
    public async Task Given_followUp_When_the_order_completes_after_the_first_reminder_Then_there_is_no_second()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["Scenarios:abandoned_cart:followUp"] = "1.00:00:00",
        });
        await engine.Consent("ab");
        await engine.Batch(Calls.Added("ab", T0, cartId: "c1"));
        await engine.Watermark(T0.AddHours(1));
        await engine.Batch(Calls.Order("ab", T0.AddHours(5), "o-1", "c1", new { product_id = "sku-1", quantity = 1, price = 20 }));
        await engine.Watermark(T0.AddDays(3));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("ab", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_Checkout_Started_with_products_and_no_earlier_cart_event_When_left_30_minutes_Then_abandoned_cart_fires()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ab");
        await engine.Batch(Calls.Track("ab", "Checkout Started", T0, new
        {
            cart_id = "c1", products = new[] { new { product_id = "sku-1", quantity = 2, price = 20 } },
        }, "checkout-1"));
        await engine.Watermark(T0.AddHours(2));
        var d = Assert.Single(await engine.FinalRecords("ab", "abandoned_cart"));
        Assert.Contains("checkout-1", d["basedOn"]!.AsArray().Select(x => (string)x!));
    }

    // ---- browse_abandonment ----

    [Fact]
    public async Task Given_three_views_of_one_product_When_an_hour_passes_without_a_view_Then_browse_abandonment_is_sent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ann");
        await engine.Batch(
            Calls.Track("ann", "Product Viewed", T0, new { product_id = "sku-b", price = 30 }, "v1"),
            Calls.Track("ann", "Product Viewed", T0.AddMinutes(10), new { product_id = "sku-b", price = 30 }, "v2"),
            Calls.Track("ann", "Product Viewed", T0.AddMinutes(20), new { product_id = "sku-b", price = 30 }, "v3"));

        await engine.Watermark(T0.AddMinutes(79));
        Assert.Empty(await engine.Finals("ann", "browse_abandonment"));
        await engine.Watermark(T0.AddHours(3));

        var d = Assert.Single(await engine.FinalRecords("ann", "browse_abandonment"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal("promotions", (string?)d["purpose"]);
        Assert.Equal(40, (int)d["priority"]!);
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(80)), (string?)d["firedAt"]);
        Assert.Equal(["v1", "v2", "v3"], BasedOn(d).Order().ToArray());
        Assert.Equal("sku-b", (string?)d["payload"]!["product"]!["product_id"]);
    }

    [Fact]
    public async Task Given_two_views_When_the_quiet_period_passes_Then_browse_abandonment_does_not_fire()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ann");
        await engine.Batch(Calls.Viewed("ann", T0, "sku-b"), Calls.Viewed("ann", T0.AddMinutes(10), "sku-b"));
        await engine.Watermark(T0.AddDays(2));
        Assert.Empty(await engine.Finals("ann", "browse_abandonment"));
    }

    [Fact]
    public async Task Given_two_views_totalling_two_hours_of_dwell_When_the_quiet_period_passes_Then_browse_abandonment_is_sent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ann");
        await engine.Batch(
            Calls.Track("ann", "Product Viewed", T0, new { product_id = "sku-d", view_duration_ms = 3_600_000 }),
            Calls.Track("ann", "Product Viewed", T0.AddHours(2), new { product_id = "sku-d", view_duration_ms = 3_600_000 }));
        await engine.Watermark(T0.AddHours(4));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("ann", "browse_abandonment"));
    }

    [Fact]
    public async Task Given_three_views_When_the_product_is_added_to_the_cart_Then_browse_abandonment_does_not_fire()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ann");
        await engine.Batch(Calls.Viewed("ann", T0, "sku-b"), Calls.Viewed("ann", T0.AddMinutes(10), "sku-b"),
            Calls.Viewed("ann", T0.AddMinutes(20), "sku-b"), Calls.Added("ann", T0.AddMinutes(30), "sku-b"));
        await engine.Watermark(T0.AddDays(1));
        Assert.Empty(await engine.Finals("ann", "browse_abandonment"));
    }

    [Fact]
    public async Task Given_three_views_When_the_product_is_ordered_Then_browse_abandonment_does_not_fire()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ann");
        await engine.Batch(Calls.Viewed("ann", T0, "sku-b"), Calls.Viewed("ann", T0.AddMinutes(10), "sku-b"),
            Calls.Viewed("ann", T0.AddMinutes(20), "sku-b"),
            Calls.Order("ann", T0.AddMinutes(40), "o-1", null, new { product_id = "sku-b", quantity = 1, price = 50 }));
        await engine.Watermark(T0.AddDays(1));
        Assert.Empty(await engine.Finals("ann", "browse_abandonment"));
    }

    [Fact]
    public async Task Given_browse_abandonment_fired_When_the_product_is_browsed_again_within_30_days_Then_it_does_not_fire_again()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("ann");
        await engine.Batch(Calls.Viewed("ann", T0, "sku-b"), Calls.Viewed("ann", T0.AddMinutes(10), "sku-b"),
            Calls.Viewed("ann", T0.AddMinutes(20), "sku-b"));
        await engine.Watermark(T0.AddHours(3));
        var later = T0.AddDays(5);
        await engine.Batch(Calls.Viewed("ann", later, "sku-b"), Calls.Viewed("ann", later.AddMinutes(10), "sku-b"),
            Calls.Viewed("ann", later.AddMinutes(20), "sku-b"));
        await engine.Watermark(later.AddDays(1));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("ann", "browse_abandonment"));
    }

    // ---- price_drop ----

    [Fact]
    public async Task Given_a_view_at_the_catalog_price_When_the_price_drops_15_percent_Then_price_drop_is_sent_based_on_the_view()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("pia");
        await engine.Catalog(new { product_id = "sku-p", price = 100m, in_stock = true, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Track("pia", "Product Viewed", T0.AddHours(1), new { product_id = "sku-p" }, "view-1"));
        await engine.Catalog(new { product_id = "sku-p", price = 85m, timestamp = EngineProcess.Iso(T0.AddHours(2)) });
        await engine.Watermark(T0.AddHours(3));

        var d = Assert.Single(await engine.FinalRecords("pia", "price_drop"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal("product_alerts", (string?)d["purpose"]);
        Assert.Equal(70, (int)d["priority"]!);
        Assert.Equal(EngineProcess.Iso(T0.AddHours(2)), (string?)d["firedAt"]);
        Assert.Equal(["view-1"], BasedOn(d));
        Assert.Equal("sku-p", (string?)d["payload"]!["product"]!["product_id"]);
    }

    [Fact]
    public async Task Given_a_view_at_100_When_the_price_falls_to_95_and_later_to_89_Then_only_the_fall_below_90_fires()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("pia");
        await engine.Catalog(new { product_id = "sku-p", price = 100m, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Viewed("pia", T0.AddHours(1), "sku-p", price: 100));
        await engine.Catalog(new { product_id = "sku-p", price = 95m, timestamp = EngineProcess.Iso(T0.AddHours(2)) });
        await engine.Watermark(T0.AddHours(3));
        Assert.Empty(await engine.Finals("pia", "price_drop"));

        await engine.Catalog(new { product_id = "sku-p", price = 89m, timestamp = EngineProcess.Iso(T0.AddHours(4)) });
        await engine.Watermark(T0.AddHours(5));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("pia", "price_drop"));
    }

    [Fact]
    public async Task Given_the_customer_saw_a_lower_price_than_the_catalog_When_the_catalog_drops_15_percent_Then_nothing_fires()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("pia");
        await engine.Catalog(new { product_id = "sku-p", price = 100m, timestamp = EngineProcess.Iso(T0) });
        // She saw it at 90 (a promotion on the page): 85 is less than 10 % below what she saw.
        await engine.Batch(Calls.Viewed("pia", T0.AddHours(1), "sku-p", price: 90));
        await engine.Catalog(new { product_id = "sku-p", price = 85m, timestamp = EngineProcess.Iso(T0.AddHours(2)) });
        await engine.Watermark(T0.AddHours(3));
        Assert.Empty(await engine.Finals("pia", "price_drop"));
    }

    [Fact]
    public async Task Given_a_subscription_to_the_product_When_the_price_drops_Then_price_drop_is_sent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("pia");
        await engine.Catalog(new { product_id = "sku-p", price = 100m, in_stock = true, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Subscribed("pia", T0.AddHours(1), "sku-p", "sub-1"));
        await engine.Catalog(new { product_id = "sku-p", price = 80m, timestamp = EngineProcess.Iso(T0.AddHours(2)) });
        await engine.Watermark(T0.AddHours(3));
        var d = Assert.Single(await engine.FinalRecords("pia", "price_drop"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal(["sub-1"], BasedOn(d));
    }

    [Fact]
    public async Task Given_a_view_then_an_order_of_the_product_When_the_price_drops_Then_nothing_fires()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("pia");
        await engine.Catalog(new { product_id = "sku-p", price = 100m, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Viewed("pia", T0.AddHours(1), "sku-p", price: 100),
            Calls.Order("pia", T0.AddHours(2), "o-1", null, new { product_id = "sku-p", quantity = 1, price = 100 }));
        await engine.Catalog(new { product_id = "sku-p", price = 70m, timestamp = EngineProcess.Iso(T0.AddHours(3)) });
        await engine.Watermark(T0.AddHours(4));
        Assert.Empty(await engine.Finals("pia", "price_drop"));
    }

    [Theory]
    [InlineData("not_interested")]
    [InlineData("already_purchased")]
    public async Task Given_a_view_then_trigger_feedback_When_the_price_drops_Then_nothing_fires(string feedback)
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("pia");
        await engine.Catalog(new { product_id = "sku-p", price = 100m, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Viewed("pia", T0.AddHours(1), "sku-p", price: 100),
            Calls.Feedback("pia", T0.AddHours(2), "sku-p", feedback));
        await engine.Catalog(new { product_id = "sku-p", price = 70m, timestamp = EngineProcess.Iso(T0.AddHours(3)) });
        await engine.Watermark(T0.AddHours(4));
        Assert.Empty(await engine.Finals("pia", "price_drop"));
    }

    [Fact]
    public async Task Given_a_price_drop_was_sent_When_the_price_rises_and_falls_back_to_the_same_level_Then_it_does_not_fire_again()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("pia");
        await engine.Catalog(new { product_id = "sku-p", price = 100m, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Viewed("pia", T0.AddHours(1), "sku-p", price: 100));
        await engine.Catalog(new { product_id = "sku-p", price = 85m, timestamp = EngineProcess.Iso(T0.AddHours(2)) });
        await engine.Watermark(T0.AddHours(3));
        await engine.Catalog(new { product_id = "sku-p", price = 100m, timestamp = EngineProcess.Iso(T0.AddDays(3)) });
        await engine.Catalog(new { product_id = "sku-p", price = 85m, timestamp = EngineProcess.Iso(T0.AddDays(4)) });
        await engine.Watermark(T0.AddDays(5));
        Assert.Equal([("sent", (string?)null)], await engine.Finals("pia", "price_drop"));
    }

    [Fact]
    public async Task Given_a_view_more_than_30_days_before_the_drop_When_the_price_drops_Then_nothing_fires()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("pia");
        await engine.Catalog(new { product_id = "sku-p", price = 100m, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Viewed("pia", T0.AddHours(1), "sku-p", price: 100));
        await engine.Catalog(new { product_id = "sku-p", price = 60m, timestamp = EngineProcess.Iso(T0.AddDays(32)) });
        await engine.Watermark(T0.AddDays(33));
        Assert.Empty(await engine.Finals("pia", "price_drop"));
    }

    [Fact]
    public async Task Given_a_catalog_update_without_timestamp_When_the_price_drops_Then_it_happens_at_the_watermark()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("pia");
        await engine.Catalog(new { product_id = "sku-p", price = 100m, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Viewed("pia", T0.AddHours(1), "sku-p", price: 100));
        await engine.Watermark(T0.AddHours(5));
        await engine.Catalog(new { product_id = "sku-p", price = 80m });
        await engine.Watermark(T0.AddHours(6));
        var d = Assert.Single(await engine.FinalRecords("pia", "price_drop"));
        Assert.Equal(EngineProcess.Iso(T0.AddHours(5)), (string?)d["firedAt"]);
    }

    // ---- back_in_stock ----

    [Fact]
    public async Task Given_a_subscription_while_out_of_stock_When_the_product_is_back_Then_back_in_stock_is_sent_once_for_that_restock()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("bo");
        await engine.Catalog(new { product_id = "sku-s", price = 40m, in_stock = false, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Subscribed("bo", T0.AddHours(1), "sku-s", "sub-1"));
        await engine.Catalog(new { product_id = "sku-s", in_stock = true, timestamp = EngineProcess.Iso(T0.AddDays(1)) });
        await engine.Watermark(T0.AddDays(1).AddHours(1));

        var d = Assert.Single(await engine.FinalRecords("bo", "back_in_stock"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal("product_alerts", (string?)d["purpose"]);
        Assert.Equal(["sub-1"], BasedOn(d));
        Assert.Equal("sku-s", (string?)d["payload"]!["product"]!["product_id"]);

        // The same stock level reported again is not a second restock.
        await engine.Catalog(new { product_id = "sku-s", in_stock = true, timestamp = EngineProcess.Iso(T0.AddDays(3)) });
        await engine.Watermark(T0.AddDays(4));
        Assert.Single(await engine.FinalRecords("bo", "back_in_stock"));
    }

    [Fact]
    public async Task Given_a_view_while_out_of_stock_When_the_product_is_back_Then_back_in_stock_is_sent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("bo");
        await engine.Catalog(new { product_id = "sku-s", price = 40m, in_stock = false, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Track("bo", "Product Viewed", T0.AddHours(1), new { product_id = "sku-s", price = 40 }, "view-1"));
        await engine.Catalog(new { product_id = "sku-s", in_stock = true, timestamp = EngineProcess.Iso(T0.AddDays(1)) });
        await engine.Watermark(T0.AddDays(2));
        var d = Assert.Single(await engine.FinalRecords("bo", "back_in_stock"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal(["view-1"], BasedOn(d));
    }

    [Fact]
    public async Task Given_a_view_while_in_stock_When_the_product_goes_out_and_comes_back_Then_back_in_stock_does_not_fire()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("bo");
        await engine.Catalog(new { product_id = "sku-s", price = 40m, in_stock = true, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Viewed("bo", T0.AddHours(1), "sku-s", price: 40));
        await engine.Catalog(new { product_id = "sku-s", in_stock = false, timestamp = EngineProcess.Iso(T0.AddHours(2)) });
        await engine.Catalog(new { product_id = "sku-s", in_stock = true, timestamp = EngineProcess.Iso(T0.AddDays(1)) });
        await engine.Watermark(T0.AddDays(2));
        Assert.Empty(await engine.Finals("bo", "back_in_stock"));
    }

    [Fact]
    public async Task Given_a_subscription_When_the_customer_buys_it_before_the_restock_Then_back_in_stock_does_not_fire()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("bo");
        await engine.Catalog(new { product_id = "sku-s", price = 40m, in_stock = false, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Subscribed("bo", T0.AddHours(1), "sku-s"),
            Calls.Order("bo", T0.AddHours(5), "o-1", null, new { product_id = "sku-s", quantity = 1, price = 40 }));
        await engine.Catalog(new { product_id = "sku-s", in_stock = true, timestamp = EngineProcess.Iso(T0.AddDays(1)) });
        await engine.Watermark(T0.AddDays(2));
        Assert.Empty(await engine.Finals("bo", "back_in_stock"));
    }

    // ---- reorder_delay ----

    private static object CategoryOrder(string userId, DateTimeOffset at, string orderId, string category) =>
        Calls.Order(userId, at, orderId, null, new { product_id = "sku-" + category, quantity = 1, price = 10, category });

    [Fact]
    public async Task Given_three_orders_ten_days_apart_When_twelve_days_pass_without_an_order_Then_reorder_delay_names_the_favourite_category()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("rob");
        await engine.Batch(CategoryOrder("rob", T0, "o-1", "coffee"), CategoryOrder("rob", T0.AddDays(10), "o-2", "tea"),
            CategoryOrder("rob", T0.AddDays(20), "o-3", "coffee"));

        // Usual gap 10 d x 1.2 = 12 d after the last order.
        await engine.Watermark(T0.AddDays(31));
        Assert.Empty(await engine.Finals("rob", "reorder_delay"));
        await engine.Watermark(T0.AddDays(33));

        var d = Assert.Single(await engine.FinalRecords("rob", "reorder_delay"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal(EngineProcess.Iso(T0.AddDays(32)), (string?)d["firedAt"]);
        Assert.Equal("coffee", (string?)d["payload"]!["favourite_category"]);
        Assert.NotEmpty(BasedOn(d));
    }

    [Fact]
    public async Task Given_three_orders_When_a_fourth_order_comes_before_the_usual_gap_is_exceeded_Then_reorder_delay_does_not_fire()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("rob");
        await engine.Batch(CategoryOrder("rob", T0, "o-1", "coffee"), CategoryOrder("rob", T0.AddDays(10), "o-2", "coffee"),
            CategoryOrder("rob", T0.AddDays(20), "o-3", "coffee"), CategoryOrder("rob", T0.AddDays(30), "o-4", "coffee"));
        await engine.Watermark(T0.AddDays(35));
        Assert.Empty(await engine.Finals("rob", "reorder_delay"));
    }

    [Fact]
    public async Task Given_two_orders_When_a_long_silence_follows_Then_reorder_delay_does_not_fire()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("rob");
        await engine.Batch(CategoryOrder("rob", T0, "o-1", "coffee"), CategoryOrder("rob", T0.AddDays(10), "o-2", "coffee"));
        await engine.Watermark(T0.AddDays(90));
        Assert.Empty(await engine.Finals("rob", "reorder_delay"));
    }

    // ---- replenishment ----

    [Fact]
    public async Task Given_an_order_line_with_consumption_days_When_days_times_quantity_pass_Then_replenishment_is_sent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("rea");
        await engine.Batch(Calls.Track("rea", "Order Completed", T0, new
        {
            order_id = "o-1", total = 20,
            products = new[] { new { product_id = "sku-c", quantity = 2, price = 10, consumption_days = 10 } },
        }, "order-1"));

        await engine.Watermark(T0.AddDays(19));
        Assert.Empty(await engine.Finals("rea", "replenishment"));
        await engine.Watermark(T0.AddDays(21));

        var d = Assert.Single(await engine.FinalRecords("rea", "replenishment"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal(EngineProcess.Iso(T0.AddDays(20)), (string?)d["firedAt"]);
        Assert.Equal(["order-1"], BasedOn(d));
    }

    [Fact]
    public async Task Given_consumption_days_in_the_catalog_When_the_order_line_has_none_Then_replenishment_uses_the_catalog()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("rea");
        await engine.Catalog(new { product_id = "sku-c", price = 10m, consumption_days = 15, timestamp = EngineProcess.Iso(T0) });
        await engine.Batch(Calls.Order("rea", T0.AddHours(1), "o-1", null, new { product_id = "sku-c", quantity = 1, price = 10 }));
        await engine.Watermark(T0.AddDays(15));
        Assert.Empty(await engine.Finals("rea", "replenishment"));
        await engine.Watermark(T0.AddDays(16));
        var d = Assert.Single(await engine.FinalRecords("rea", "replenishment"));
        Assert.Equal(EngineProcess.Iso(T0.AddHours(1).AddDays(15)), (string?)d["firedAt"]);
    }

    [Fact]
    public async Task Given_an_XL_pack_When_ordered_Then_replenishment_fires_xlExtraDays_later()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("rea");
        await engine.Batch(Calls.Order("rea", T0, "o-1", null,
            new { product_id = "sku-c", quantity = 1, price = 10, consumption_days = 10, pack_size = "XL" }));
        await engine.Watermark(T0.AddDays(16));
        Assert.Empty(await engine.Finals("rea", "replenishment"));
        await engine.Watermark(T0.AddDays(18));
        var d = Assert.Single(await engine.FinalRecords("rea", "replenishment"));
        Assert.Equal(EngineProcess.Iso(T0.AddDays(17)), (string?)d["firedAt"]);
    }

    [Fact]
    public async Task Given_an_order_of_a_product_without_consumption_days_When_a_year_passes_Then_replenishment_never_fires()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("rea");
        await engine.Batch(Calls.Order("rea", T0, "o-1", null, new { product_id = "sku-n", quantity = 3, price = 10 }));
        await engine.Watermark(T0.AddDays(365));
        Assert.Empty(await engine.Finals("rea", "replenishment"));
    }

    [Fact]
    public async Task Given_a_consumable_When_it_is_reordered_before_it_runs_out_Then_only_the_new_cycle_fires()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("rea");
        await engine.Batch(
            Calls.Order("rea", T0, "o-1", null, new { product_id = "sku-c", quantity = 1, price = 10, consumption_days = 10 }),
            Calls.Order("rea", T0.AddDays(5), "o-2", null, new { product_id = "sku-c", quantity = 1, price = 10, consumption_days = 10 }));
        await engine.Watermark(T0.AddDays(12));
        Assert.Empty(await engine.Finals("rea", "replenishment"));
        await engine.Watermark(T0.AddDays(16));
        var d = Assert.Single(await engine.FinalRecords("rea", "replenishment"));
        Assert.Equal(EngineProcess.Iso(T0.AddDays(15)), (string?)d["firedAt"]);
    }

    // ---- welcome ----

    [Fact]
    public async Task Given_a_consented_customer_When_signed_up_Then_welcome_is_sent_right_after_the_arbitration_window()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("wes");
        await engine.Batch(Calls.SignedUp("wes", T0, messageId: "signup-1"));
        await engine.Watermark(T0.AddMinutes(2));

        var d = Assert.Single(await engine.FinalRecords("wes", "welcome"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal("email", (string?)d["channel"]);
        Assert.Equal("promotions", (string?)d["purpose"]);
        Assert.Equal(90, (int)d["priority"]!);
        Assert.Equal(EngineProcess.Iso(T0), (string?)d["firedAt"]);
        Assert.Equal(EngineProcess.Iso(T0.AddMinutes(1)), (string?)d["decidedAt"]);
        Assert.Equal(["signup-1"], BasedOn(d));
    }

    [Fact]
    public async Task Given_email_not_consented_but_sms_When_subscribed_to_the_newsletter_Then_welcome_falls_back_to_sms()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("wes", email: false, sms: true);
        await engine.Batch(Calls.SignedUp("wes", T0, "Newsletter Subscribed"));
        await engine.Watermark(T0.AddMinutes(2));
        var d = Assert.Single(await engine.FinalRecords("wes", "welcome"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal("sms", (string?)d["channel"]);
    }

    [Fact]
    public async Task Given_welcome_disabled_in_the_scenario_config_When_signed_up_Then_nothing_is_decided()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string> { ["Scenarios:welcome:enabled"] = "false" });
        await engine.Consent("wes");
        await engine.Batch(Calls.SignedUp("wes", T0));
        await engine.Watermark(T0.AddHours(1));
        Assert.Empty(await engine.Records("wes", "welcome"));
    }
}
