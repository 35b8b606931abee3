namespace TriggerEngine.Host.Tests;

/// <summary>SPEC 3: scenario parameters from config/scenarios.json, another file by Scenarios:Path, reloaded without a restart.</summary>
public sealed class ConfigTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Given_a_scenarios_file_named_by_Scenarios_Path_When_a_cart_is_abandoned_Then_its_delay_channels_and_priority_apply()
    {
        var file = Path.Combine(Path.GetTempPath(), "trigger-engine-tests", $"scenarios-{Guid.NewGuid():N}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, """
            { "abandoned_cart": { "delay": "01:00:00", "channels": [ "push" ], "priority": 15 } }
            """);
        try
        {
            await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string> { ["Scenarios:Path"] = file });
            await engine.Consent("cfg", email: true, push: true);
            await engine.Batch(Calls.Added("cfg", T0));
            await engine.Watermark(T0.AddMinutes(50));
            Assert.Empty(await engine.Finals("cfg", "abandoned_cart"));
            await engine.Watermark(T0.AddHours(2));
            var d = Assert.Single(await engine.FinalRecords("cfg", "abandoned_cart"));
            Assert.Equal(EngineProcess.Iso(T0.AddHours(1)), (string?)d["firedAt"]);
            Assert.Equal("push", (string?)d["channel"]);
            Assert.Equal(15, (int)d["priority"]!);
            Assert.Equal("cart_reminders", (string?)d["purpose"]);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task Given_a_running_engine_When_the_scenarios_file_changes_Then_a_cart_opened_afterwards_uses_the_new_delay()
    {
        var file = Path.Combine(Path.GetTempPath(), "trigger-engine-tests", $"scenarios-{Guid.NewGuid():N}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, """{ "abandoned_cart": { "delay": "01:00:00" } }""");
        try
        {
            await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string> { ["Scenarios:Path"] = file });
            await engine.Consent("cfg");
            await engine.Batch(Calls.Track("cfg", "Coupon Viewed", T0));
            await File.WriteAllTextAsync(file, """{ "abandoned_cart": { "delay": "00:10:00" } }""");

            // The file watcher reloads asynchronously: probe with throw-away customers until the new delay is in force.
            var reloaded = false;
            for (var i = 0; i < 200 && !reloaded; i++)
            {
                await Task.Delay(100);
                await engine.Batch(Calls.Added("probe-" + i, T0));
                var x = await engine.Explain("probe-" + i);
                reloaded = (string?)x!["activeScenarios"]![0]!["dueAt"] == EngineProcess.Iso(T0.AddMinutes(10));
            }
            Assert.True(reloaded, "the scenarios file was not reloaded within 20 s");

            await engine.Batch(Calls.Added("cfg", T0.AddMinutes(1)));
            await engine.Watermark(T0.AddMinutes(20));
            var d = Assert.Single(await engine.FinalRecords("cfg", "abandoned_cart"));
            Assert.Equal(EngineProcess.Iso(T0.AddMinutes(11)), (string?)d["firedAt"]);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task Given_an_open_cart_When_the_scenarios_file_shortens_the_delay_Then_the_timer_follows_the_due_time_explain_shows()
    {
        var file = Path.Combine(Path.GetTempPath(), "trigger-engine-tests", $"scenarios-{Guid.NewGuid():N}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, """{ "abandoned_cart": { "delay": "01:00:00" } }""");
        try
        {
            await using var engine = await EngineProcess.StartAsync(settings: new Dictionary<string, string> { ["Scenarios:Path"] = file });
            await engine.Consent("cfg");
            await engine.Batch(Calls.Added("cfg", T0));
            await File.WriteAllTextAsync(file, """{ "abandoned_cart": { "delay": "00:10:00" } }""");

            string? due = null;
            for (var i = 0; i < 200 && due != EngineProcess.Iso(T0.AddMinutes(10)); i++)
            {
                await Task.Delay(100);
                var x = await engine.Explain("cfg");
                due = (string?)x!["activeScenarios"]!.AsArray().First(a => (string?)a!["scenario"] == "abandoned_cart")!["dueAt"];
            }
            Assert.Equal(EngineProcess.Iso(T0.AddMinutes(10)), due);
            await engine.Watermark(T0.AddMinutes(20));
            var d = Assert.Single(await engine.FinalRecords("cfg", "abandoned_cart"));
            Assert.Equal(EngineProcess.Iso(T0.AddMinutes(10)), (string?)d["firedAt"]);
        }
        finally { File.Delete(file); }
    }
}
