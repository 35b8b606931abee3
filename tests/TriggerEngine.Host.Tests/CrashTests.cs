using System.Text.Json;

namespace TriggerEngine.Host.Tests;

/// <summary>SPEC 2, 5, 6 under <c>kill -9</c>: a 200 survives the process, a due timer fires once, a decision
/// is delivered once with the same id.</summary>
public sealed class CrashTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);

    private static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "trigger-engine-tests", Guid.NewGuid().ToString("N"));

    private static async Task Consent(ChildEngine e, string customer) =>
        await e.SendOk(HttpMethod.Put, $"/v1/consent/{customer}", new
        {
            channels = new { email = true, sms = false, push = false },
            purposes = new { cart_reminders = true, promotions = true, product_alerts = true },
            optOutTopics = Array.Empty<string>(),
            unsubscribedAll = false,
            updatedAt = EngineProcess.Iso(T0.AddDays(-1)),
        }, admin: true);

    private static Task Batch(ChildEngine e, params object[] calls) => e.SendOk(HttpMethod.Post, "/v1/batch", new { batch = calls });

    private static Task Watermark(ChildEngine e, DateTimeOffset to) =>
        e.SendOk(HttpMethod.Post, "/v1/admin/watermark", new { to = EngineProcess.Iso(to) }, admin: true);

    /// <summary>(customerId, decisionId, outcome) of every line of the decision file.</summary>
    private static List<(string Customer, string Id, string Outcome, string Scenario)> Lines(ChildEngine e) =>
        File.Exists(e.DecisionFile)
            ? File.ReadAllLines(e.DecisionFile).Where(l => l.Length > 0).Select(l =>
            {
                using var d = JsonDocument.Parse(l);
                var r = d.RootElement;
                return (r.GetProperty("customerId").GetString()!, r.GetProperty("decisionId").GetString()!,
                    r.GetProperty("outcome").GetString()!, r.GetProperty("scenario").GetString()!);
            }).ToList()
            : [];

    [Fact]
    public async Task Given_accepted_carts_and_no_checkpoint_yet_When_the_process_is_killed_Then_after_restart_every_reminder_fires_once()
    {
        // No checkpoint round before the kill: everything the restart knows comes from the ingest log.
        await using var engine = new ChildEngine(NewDataDirectory(), "--Cluster:CheckpointInterval", "01:00:00");
        await engine.StartAsync();
        var customers = Enumerable.Range(0, 40).Select(i => $"crash-{i}").ToArray();
        foreach (var c in customers) await Consent(engine, c);
        foreach (var chunk in customers.Chunk(10))
            await Batch(engine, chunk.Select(c => Calls.Added(c, T0)).ToArray());
        await engine.KillAsync();

        await engine.StartAsync();
        await Watermark(engine, T0.AddHours(1));
        await Watermark(engine, T0.AddDays(3));

        var carts = Lines(engine).Where(l => l.Scenario == "abandoned_cart" && l.Outcome == "sent").ToList();
        Assert.Equal(customers.OrderBy(c => c), carts.Select(l => l.Customer).OrderBy(c => c));
        Assert.Equal(carts.Count, carts.Select(l => l.Id).Distinct().Count());
    }

    [Fact]
    public async Task Given_decisions_delivered_and_more_calls_accepted_When_the_process_is_killed_Then_nothing_is_delivered_twice_or_lost()
    {
        await using var engine = new ChildEngine(NewDataDirectory(), "--Cluster:CheckpointInterval", "00:00:00.200");
        await engine.StartAsync();
        var first = Enumerable.Range(0, 20).Select(i => $"early-{i}").ToArray();
        var second = Enumerable.Range(0, 20).Select(i => $"late-{i}").ToArray();
        foreach (var c in first.Concat(second)) await Consent(engine, c);
        await Batch(engine, first.Select(c => Calls.Added(c, T0)).ToArray());
        await Watermark(engine, T0.AddHours(1)); // the early reminders are decided and delivered
        await Task.Delay(1_000); // a checkpoint round or more covers them
        await Batch(engine, second.Select(c => Calls.Added(c, T0.AddHours(1))).ToArray());
        await engine.KillAsync();

        await engine.StartAsync();
        await Watermark(engine, T0.AddHours(3));

        var sent = Lines(engine).Where(l => l.Scenario == "abandoned_cart" && l.Outcome == "sent").ToList();
        Assert.Equal(first.Concat(second).OrderBy(c => c), sent.Select(l => l.Customer).OrderBy(c => c));
        Assert.Equal(sent.Count, sent.Select(l => l.Id).Distinct().Count());
    }

    /// <summary>Views at 100, a price drop to 80 (the product notifies the customer), a cart, then a later view
    /// that moves the customer past the cart's reminder time. Email allows one send a day, so which of the price
    /// drop and the cart reminder is sent depends on the order the customer sees them in.</summary>
    private static async Task OrderSensitiveTraffic(ChildEngine e, string[] customers)
    {
        foreach (var c in customers) await Consent(e, c);
        await e.SendOk(HttpMethod.Post, "/v1/catalog",
            new { products = new[] { new { product_id = "sku-drop", price = 100m, timestamp = EngineProcess.Iso(T0) } } }, admin: true);
        await Batch(e, customers.Select(c => Calls.Viewed(c, T0.AddMinutes(1), "sku-drop", price: 100)).ToArray());
        await e.SendOk(HttpMethod.Post, "/v1/catalog",
            new { products = new[] { new { product_id = "sku-drop", price = 80m, timestamp = EngineProcess.Iso(T0.AddHours(1)) } } }, admin: true);
        await Batch(e, customers.Select(c => Calls.Added(c, T0.AddHours(2))).ToArray());
        await Batch(e, customers.Select(c => Calls.Viewed(c, T0.AddHours(5), "sku-other")).ToArray());
    }

    [Fact]
    public async Task Given_a_price_drop_between_a_customers_own_events_When_the_process_is_killed_before_a_checkpoint_Then_the_replay_decides_as_live_did()
    {
        var customers = Enumerable.Range(0, 30).Select(i => $"order-{i}").ToArray();
        // A lateness longer than the traffic: nothing is decided before the kill, all of it after the replay.
        string[] settings = ["--Cluster:CheckpointInterval", "01:00:00", "--Engine:AllowedLateness", "06:00:00"];
        await using var live = new ChildEngine(NewDataDirectory(), settings);
        await live.StartAsync();
        await OrderSensitiveTraffic(live, customers);
        await Watermark(live, T0.AddDays(1));

        await using var crashed = new ChildEngine(NewDataDirectory(), settings);
        await crashed.StartAsync();
        await OrderSensitiveTraffic(crashed, customers);
        await crashed.KillAsync(); // every record is replayed from the ingest log, the catalog ones through the product
        await crashed.StartAsync();
        await Watermark(crashed, T0.AddDays(1));

        var expected = Lines(live).Select(l => (l.Id, l.Outcome)).Order().ToList();
        Assert.Contains(Lines(live), l => l.Scenario == "price_drop" && l.Outcome == "sent");
        Assert.Equal(expected, Lines(crashed).Select(l => (l.Id, l.Outcome)).Order().ToList());
    }

    [Fact]
    public async Task Given_SIGTERM_Then_the_engine_saves_and_exits_on_its_own_within_its_stop_timeout()
    {
        await using var engine = new ChildEngine(NewDataDirectory());
        await engine.StartAsync();
        await Consent(engine, "term-1");
        await Batch(engine, Calls.Added("term-1", T0));

        var (code, output) = await engine.TerminateAsync(TimeSpan.FromSeconds(90));

        Assert.True(code == 0, $"exit code {code}: {output}");
        Assert.DoesNotContain("did not stop within", output);
    }

    [Fact]
    public async Task Given_a_stop_that_outlasts_the_stop_timeout_Then_the_process_ends_anyway_and_the_restart_has_every_accepted_call()
    {
        // A stop timeout no stop can meet stands in for a stop that hangs.
        await using var engine = new ChildEngine(NewDataDirectory(), "--Engine:StopTimeout", "00:00:00.001",
            "--Cluster:CheckpointInterval", "01:00:00");
        await engine.StartAsync();
        var customers = Enumerable.Range(0, 10).Select(i => $"hang-{i}").ToArray();
        foreach (var c in customers) await Consent(engine, c);
        await Batch(engine, customers.Select(c => Calls.Added(c, T0)).ToArray());

        var (code, output) = await engine.TerminateAsync(TimeSpan.FromSeconds(60));

        Assert.True(code == 137, $"exit code {code} (137: killed): {output}");
        Assert.Contains("did not stop within", output);
        await engine.StartAsync();
        await Watermark(engine, T0.AddHours(1));
        var carts = Lines(engine).Where(l => l.Scenario == "abandoned_cart" && l.Outcome == "sent").Select(l => l.Customer);
        Assert.Equal(customers.Order(), carts.Order());
    }
}
