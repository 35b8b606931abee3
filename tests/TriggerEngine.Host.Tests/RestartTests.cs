using Microsoft.Extensions.DependencyInjection;
using TriggerEngine.Cluster.Entities;
namespace TriggerEngine.Host.Tests;

/// <summary>SPEC 2, 4, 5, 6: what a 200 promises survives the process; the same input gives the same decisions.</summary>
public sealed class RestartTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Given_a_decision_and_consent_When_the_engine_restarts_on_the_same_data_Then_both_are_still_there()
    {
        await using var first = await EngineProcess.StartAsync();
        await first.Consent("rita", email: true, sms: true, maxPerWeek: 2, updatedAt: T0.AddDays(-1));
        await first.Batch(Calls.Added("rita", T0));
        await first.Watermark(T0.AddHours(1));
        var before = Assert.Single(await first.FinalRecords("rita", "abandoned_cart"));
        await first.StopKeepingDataAsync();

        await using var second = await EngineProcess.StartAsync(dataDirectory: first.DataDirectory);
        var after = Assert.Single(await second.FinalRecords("rita", "abandoned_cart"));
        Assert.Equal((string?)before["decisionId"], (string?)after["decisionId"]);
        Assert.Equal("sent", (string?)after["outcome"]);
        var consent = await second.SendOk(HttpMethod.Get, "/v1/consent/rita", auth: "admin");
        Assert.True((bool)consent!["channels"]!["sms"]!);
        Assert.Equal(2, (int)consent["maxPerWeek"]!);
        Assert.Equal(EngineProcess.Iso(T0.AddDays(-1)), (string?)consent["updatedAt"]);
    }

    [Fact]
    public async Task Given_a_residency_limit_of_five_When_thirty_customers_open_carts_Then_each_reminder_fires_once_from_saved_state()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["Cluster:MaxResidentEntities"] = "5",
            ["Cluster:MaxResidentProducts"] = "5",
        });
        var customers = Enumerable.Range(0, 30).Select(i => $"lru-{i}").ToArray();
        foreach (var c in customers) await engine.Consent(c);
        foreach (var c in customers) await engine.Batch(Calls.Added(c, T0)); // one at a time: the oldest leave memory
        await engine.Batch(customers.Select(c => Calls.Viewed(c, T0.AddMinutes(1))).ToArray()); // and come back

        await engine.Watermark(T0.AddHours(1));
        await engine.Watermark(T0.AddDays(2));

        foreach (var c in customers)
        {
            Assert.Equal([("sent", (string?)null)], await engine.Finals(c, "abandoned_cart"));
            Assert.Equal(2, (await engine.Explain(c))!["history"]!.AsArray().Count);
        }
    }

    [Fact]
    public async Task Given_customers_churning_past_their_limit_When_they_all_view_one_product_Then_the_product_stays_resident()
    {
        await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string>
        {
            ["Cluster:MaxResidentEntities"] = "3",
        });
        var customers = Enumerable.Range(0, 12).Select(i => $"churn-{i}").ToArray();
        foreach (var c in customers) await engine.Batch(Calls.Viewed(c, T0)); // one at a time: customers leave memory

        // Products have a limit of their own, which the customers' churn does not touch; the customers' holds customers.
        var products = engine.Services.GetRequiredService<ProductResidency>().Limit;
        var customersLimit = engine.Services.GetRequiredService<ResidencyLimit>();
        Assert.Equal(1, products.Count);
        Assert.InRange(customersLimit.Count, 1, 4); // 3, or 4 while an evicted one is still stopping
        // Activations count per engine (the host tests run several in one process): one product, none from a row.
        Assert.Equal((1, 0), (products.Activated, products.Restored));
        Assert.True(customersLimit.Activated >= customers.Length, $"{customersLimit.Activated} customers activated");
    }

    [Fact]
    public async Task Given_an_open_cart_When_the_engine_restarts_before_it_is_due_Then_the_timer_still_fires_once()
    {
        await using var first = await EngineProcess.StartAsync();
        await first.Consent("tim");
        await first.Batch(Calls.Added("tim", T0));
        await first.StopKeepingDataAsync();

        await using var second = await EngineProcess.StartAsync(dataDirectory: first.DataDirectory);
        await second.Watermark(T0.AddHours(1));
        Assert.Equal([("sent", (string?)null)], await second.Finals("tim", "abandoned_cart"));
        await second.Watermark(T0.AddDays(2));
        Assert.Equal([("sent", (string?)null)], await second.Finals("tim", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_a_sent_decision_When_the_same_calls_are_replayed_after_a_restart_Then_nothing_changes()
    {
        var add = Calls.Track("dup", "Product Added", T0, new { product_id = "sku-1", quantity = 1, price = 20, cart_id = "c1" }, "m-1");
        await using var first = await EngineProcess.StartAsync();
        await first.Consent("dup");
        await first.Batch(add);
        await first.Watermark(T0.AddHours(1));
        await first.StopKeepingDataAsync();

        await using var second = await EngineProcess.StartAsync(dataDirectory: first.DataDirectory);
        await second.Batch(add);
        await second.Watermark(T0.AddDays(3));
        Assert.Equal([("sent", (string?)null)], await second.Finals("dup", "abandoned_cart"));
        var history = (await second.Explain("dup"))!["history"]!.AsArray();
        Assert.Single(history);
    }

    [Fact]
    public async Task Given_a_view_and_a_catalog_price_When_the_engine_restarts_and_the_price_drops_Then_price_drop_fires()
    {
        await using var first = await EngineProcess.StartAsync();
        await first.Consent("pam");
        await first.Catalog(new { product_id = "sku-p", price = 100m, timestamp = EngineProcess.Iso(T0) });
        await first.Batch(Calls.Track("pam", "Product Viewed", T0.AddHours(1), new { product_id = "sku-p" }, "view-1"));
        await first.StopKeepingDataAsync();

        await using var second = await EngineProcess.StartAsync(dataDirectory: first.DataDirectory);
        await second.Catalog(new { product_id = "sku-p", price = 80m, timestamp = EngineProcess.Iso(T0.AddHours(2)) });
        await second.Watermark(T0.AddHours(3));
        var d = Assert.Single(await second.FinalRecords("pam", "price_drop"));
        Assert.Equal("sent", (string?)d["outcome"]);
        Assert.Equal(["view-1"], d["basedOn"]!.AsArray().Select(x => (string)x!).ToArray());
    }

    [Fact]
    public async Task Given_an_erased_customer_When_the_engine_restarts_Then_the_customer_is_still_unknown()
    {
        await using var first = await EngineProcess.StartAsync();
        await first.Consent("gone");
        await first.Batch(Calls.Added("gone", T0));
        await first.Watermark(T0.AddHours(1));
        Assert.True((await first.Send(HttpMethod.Delete, "/v1/customers/gone", auth: "admin")).IsSuccessStatusCode);
        await first.StopKeepingDataAsync();

        await using var second = await EngineProcess.StartAsync(dataDirectory: first.DataDirectory);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await second.Send(HttpMethod.Get, "/v1/customers/gone", auth: "admin")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await second.Send(HttpMethod.Get, "/v1/consent/gone", auth: "admin")).StatusCode);
    }

    [Fact]
    public async Task Given_a_send_deferred_by_quiet_hours_When_the_engine_restarts_Then_it_is_finalised_with_the_same_id()
    {
        await using var first = await EngineProcess.StartAsync();
        await first.Consent("night", email: false, sms: true);
        var night = new DateTimeOffset(2030, 1, 7, 21, 0, 0, TimeSpan.Zero);
        await first.Batch(Calls.Track("night", "Product Added", night,
            new { product_id = "sku-1", quantity = 1, price = 20, cart_id = "c1" }, timezone: "Europe/Paris"));
        await first.Watermark(night.AddHours(2));
        var deferred = Assert.Single(await first.Records("night", "abandoned_cart"));
        Assert.Equal("deferred", (string?)deferred["outcome"]);
        await first.StopKeepingDataAsync();

        await using var second = await EngineProcess.StartAsync(dataDirectory: first.DataDirectory);
        // Waking the customer first keeps this test apart from the timer-recovery race (see the skipped test above).
        await second.Explain("night");
        await second.Watermark(new DateTimeOffset(2030, 1, 8, 9, 0, 0, TimeSpan.Zero));
        var records = await second.Records("night", "abandoned_cart");
        Assert.Equal(["deferred", "sent"], records.Select(r => (string)r["outcome"]!).ToArray());
        Assert.Equal((string?)deferred["decisionId"], (string?)records[1]["decisionId"]);
    }

    [Fact]
    public async Task Given_the_same_input_on_two_fresh_engines_When_replayed_Then_the_decision_records_are_identical()
    {
        async Task<string> Run()
        {
            await using var engine = await EngineProcess.StartAsync();
            await engine.Consent("det", email: false, sms: true);
            await engine.Batch(
                Calls.Track("det", "Product Added", T0.AddHours(11), new { product_id = "sku-1", quantity = 2, price = 20, cart_id = "c1" },
                    "a-1", timezone: "Europe/Paris"),
                Calls.Track("det", "Signed Up", T0.AddHours(11).AddMinutes(30), new { }, "s-1"));
            await engine.Watermark(T0.AddDays(2));
            return (await engine.Decisions("det")).ToJsonString();
        }
        var a = await Run();
        var b = await Run();
        Assert.Equal(a, b);
        Assert.Contains("decisionId", a);
    }
}
