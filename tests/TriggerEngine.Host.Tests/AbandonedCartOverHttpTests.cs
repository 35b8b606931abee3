namespace TriggerEngine.Host.Tests;

/// <summary>SPEC 3 abandoned_cart through the HTTP API in event-clock mode.</summary>
public sealed class AbandonedCartOverHttpTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Given_a_consented_customer_When_the_cart_is_left_30_minutes_Then_exactly_one_sent_decision_is_written()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("alice");
        await engine.Batch(Calls.Added("alice", T0));

        await engine.Watermark(T0.AddMinutes(29));
        Assert.Empty(await engine.Finals("alice", "abandoned_cart"));
        await engine.Watermark(T0.AddHours(3));

        Assert.Equal([("sent", (string?)null)], await engine.Finals("alice", "abandoned_cart"));
        var d = (await engine.Decisions("alice")).Single(x => (string?)x!["outcome"] == "sent")!;
        Assert.Equal("email", (string?)d["channel"]);
        Assert.Equal("2030-01-07T10:30:00.000Z", (string?)d["firedAt"]);
        Assert.Equal("2030-01-07T10:31:00.000Z", (string?)d["decidedAt"]);
        // The watermark returns once the decision is in the NDJSON file.
        Assert.Contains((string)d["decisionId"]!, File.ReadAllText(engine.DecisionFile));
    }

    [Fact]
    public async Task Given_no_consent_record_When_the_cart_is_abandoned_Then_it_is_suppressed_no_consent()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Batch(Calls.Added("bob", T0));
        await engine.Watermark(T0.AddHours(1));
        Assert.Equal([("suppressed", (string?)"no_consent")], await engine.Finals("bob", "abandoned_cart"));
    }

    [Fact]
    public async Task Given_an_open_cart_When_the_order_completes_Then_nothing_is_decided()
    {
        await using var engine = await EngineProcess.StartAsync();
        await engine.Consent("carol");
        await engine.Batch(Calls.Added("carol", T0, cartId: "c1"),
            Calls.Order("carol", T0.AddMinutes(10), "o1", "c1", new { product_id = "sku-1", quantity = 1, price = 20 }));
        await engine.Watermark(T0.AddHours(2));
        Assert.Empty(await engine.Finals("carol", "abandoned_cart"));
    }
}
