using System.Text.Json;
using TriggerEngine.LoadTool.Compare;
using TriggerEngine.LoadTool.Generator;
using TriggerEngine.LoadTool.Oracle;

namespace TriggerEngine.LoadTool.Tests;

public class OracleTests
{
    private static readonly DateTime T0 = new(2030, 1, 7, 10, 0, 0, DateTimeKind.Utc);

    private static ConsentRecord Consent(string json) => ConsentRecord.Parse(JsonDocument.Parse(json).RootElement);

    private static Call Added(string user, string id, DateTime at) => Call.Parse(
        $$$"""{"type":"track","userId":"{{{user}}}","event":"Product Added","messageId":"{{{id}}}","timestamp":"{{{Time.Format(at)}}}","properties":{"product_id":"sku-1","quantity":2,"price":20,"cart_id":"cart-1"}}""");

    private static Call MessageSent(string user, string id, DateTime at, string channel) => Call.Parse(
        $$$"""{"type":"track","userId":"{{{user}}}","event":"Message Sent","messageId":"{{{id}}}","timestamp":"{{{Time.Format(at)}}}","properties":{"channel":"{{{channel}}}","purpose":"promotions"}}""");

    [Fact]
    public void Abandoned_cart_with_consent_is_sent_once_by_email()
    {
        var o = new ReferenceOracle();
        o.PutConsent("alice", Consent("""{"channels":{"email":true},"purposes":{"cart_reminders":true}}"""));
        o.Apply(Added("alice", "m-1", T0));
        o.Apply(Added("alice", "m-1", T0)); // duplicate messageId: ignored
        o.Finish(T0.AddDays(1));

        var d = Assert.Single(o.Decisions);
        Assert.Equal(("abandoned_cart", "sent", "email"), (d.Scenario, d.Outcome, d.Channel));
        Assert.Equal(T0.AddMinutes(30), d.FiredAt);
        Assert.Equal(T0.AddMinutes(31), d.DecidedAt);
    }

    [Fact]
    public void Abandoned_cart_without_consent_record_is_suppressed_no_consent()
    {
        var o = new ReferenceOracle();
        o.Apply(Added("bob", "m-1", T0));
        o.Finish(T0.AddDays(1));

        var d = Assert.Single(o.Decisions);
        Assert.Equal(("suppressed", "no_consent"), (d.Outcome, d.SuppressedBy));
    }

    [Fact]
    public void A_message_sent_by_another_system_within_the_minimum_gap_caps_the_reminder()
    {
        var o = new ReferenceOracle();
        o.PutConsent("carol", Consent("""{"channels":{"email":true},"purposes":{"cart_reminders":true}}"""));
        o.Apply(Added("carol", "m-1", T0));
        o.Apply(MessageSent("carol", "m-2", T0.AddMinutes(5), "sms")); // not email, but within the 4 h minimum gap
        o.Finish(T0.AddDays(1));

        var d = Assert.Single(o.Decisions);
        Assert.Equal(("suppressed", "frequency_cap"), (d.Outcome, d.SuppressedBy));
    }

    [Fact]
    public void Push_in_quiet_hours_is_deferred_to_eight_local_and_sent_then()
    {
        var o = new ReferenceOracle();
        o.PutConsent("dan", Consent("""{"channels":{"push":true},"purposes":{"cart_reminders":true}}"""));
        var late = new DateTime(2030, 1, 7, 22, 0, 0, DateTimeKind.Utc);
        o.Apply(Added("dan", "m-1", late));
        o.Finish(late.AddDays(1));

        var d = Assert.Single(o.Decisions);
        Assert.Equal(("sent", "push"), (d.Outcome, d.Channel));
        Assert.Equal(new DateTime(2030, 1, 8, 8, 0, 0, DateTimeKind.Utc), d.DecidedAt); // no time zone: UTC
        Assert.Single(o.Deferrals);
    }

    [Fact]
    public void Generate_is_deterministic_for_a_seed()
    {
        var a = Path.Combine(Path.GetTempPath(), "lt-det-" + Guid.NewGuid().ToString("N"));
        var b = Path.Combine(Path.GetTempPath(), "lt-det-" + Guid.NewGuid().ToString("N"));
        try
        {
            var opts = new GenOptions(60, 3, 99, 0.05, 0.05, 0.3);
            TrafficWriter.Generate(opts, a, groupSize: 25); // several groups: exercises the chunk merge
            TrafficWriter.Generate(opts, b, groupSize: 60);
            foreach (var f in new[] { "calls.ndjson", "calls.msgpack", "catalog.ndjson", "consent.ndjson", "expected.ndjson", "manifest.json" })
                Assert.True(File.ReadAllBytes(Path.Combine(a, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, f))), f + " differs");
            Assert.True(new FileInfo(Path.Combine(a, "calls.ndjson")).Length > 0);
            Assert.True(new FileInfo(Path.Combine(a, "expected.ndjson")).Length > 0);
        }
        finally
        {
            if (Directory.Exists(a)) Directory.Delete(a, true);
            if (Directory.Exists(b)) Directory.Delete(b, true);
        }
    }

    [Fact]
    public void The_oracle_in_partitions_expects_exactly_what_it_expects_in_one_pass()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lt-part-" + Guid.NewGuid().ToString("N"));
        try
        {
            TrafficWriter.Generate(new GenOptions(300, 4, 5, 0.05, 0.05, 0.3), dir, groupSize: 100, runOracle: false);
            static string[] Lines(IEnumerable<DecisionRecord> ds) =>
                ds.Select(OracleRunner.ToJson).Order(StringComparer.Ordinal).ToArray();
            var whole = Lines(OracleRunner.Run(dir));
            var parts = Lines(OracleRunner.Run(dir, partitions: 3));
            Assert.True(whole.Length > 50, $"only {whole.Length} decisions");
            Assert.Contains(whole, l => l.Contains("price_drop")); // the catalog fan-out is in every pass
            Assert.Equal(whole, parts);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Compare_flags_a_missing_and_an_extra_decision()
    {
        var expected = new List<DecisionRecord>
        {
            new("u1", "abandoned_cart", "sent", null, "email", T0, T0.AddMinutes(1)),
            new("u2", "welcome", "suppressed", "no_consent", null, T0, T0.AddMinutes(1)),
        };
        var actual = new List<ActualDecision>
        {
            Comparer.ParseActual($$$"""{"decisionId":"d1","customerId":"u1","scenario":"abandoned_cart","outcome":"sent","suppressedBy":null,"channel":"email","firedAt":"{{{Time.Format(T0)}}}","decidedAt":"{{{Time.Format(T0.AddMinutes(1))}}}"}"""),
            Comparer.ParseActual($$$"""{"decisionId":"d3","customerId":"u3","scenario":"price_drop","outcome":"suppressed","suppressedBy":"no_consent","channel":null,"firedAt":"{{{Time.Format(T0)}}}"}"""),
        };
        var r = Comparer.Run(expected, actual, trafficDir: null);
        Assert.Equal((1L, 1L, 1L, 0L), (r.Matched, r.Missed, r.Extra, r.WrongOutcome));
        Assert.False(r.Clean);
    }
}
