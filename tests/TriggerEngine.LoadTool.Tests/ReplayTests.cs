using System.Text;
using System.Text.Json;
using TriggerEngine.LoadTool.Bare;
using TriggerEngine.LoadTool.Oracle;
using TriggerEngine.LoadTool.Replay;
using TriggerEngine.LoadTool.Report;

namespace TriggerEngine.LoadTool.Tests;

/// <summary>The pure parts of the replayer: partitioning, the lockstep gate, batch bodies, the report.</summary>
public class ReplayTests
{
    private static readonly DateTime T0 = new(2030, 1, 7, 0, 0, 0, DateTimeKind.Utc);

    private static byte[] CallJson(string? user, string? anon, DateTime ts, string id) => Encoding.UTF8.GetBytes(
        "{\"type\":\"track\",\"messageId\":\"" + id + "\"" + (user is null ? "" : ",\"userId\":\"" + user + "\"") +
        (anon is null ? "" : ",\"anonymousId\":\"" + anon + "\"") + ",\"event\":\"Product Viewed\",\"timestamp\":\"" + Time.Format(ts) +
        "\",\"properties\":{\"product_id\":\"p1\"}}");

    /// <summary>Persons 0..n-1 with anonymous calls, an identify carrying both ids, then known calls; some calls up to 30 s late.</summary>
    private static (List<byte[]> Lines, List<long> Person, List<DateTime> Ts) Traffic(int persons, int callsEach, int seed)
    {
        var rnd = new Random(seed);
        var all = new List<(DateTime Arrival, DateTime Ts, long Person, int Seq, byte[] Json)>();
        for (int p = 0; p < persons; p++)
        {
            var t = T0.AddSeconds(rnd.Next(0, 600));
            for (int k = 0; k < callsEach; k++)
            {
                t = t.AddSeconds(rnd.Next(1, 120));
                string? user = k >= callsEach / 2 ? $"u{p}" : null;
                string? anon = k <= callsEach / 2 ? $"a{p}" : null;
                var arrival = rnd.NextDouble() < 0.1 ? t.AddSeconds(rnd.Next(1, 30)) : t; // late: arrives up to 30 s after its time
                all.Add((arrival, t, p, k, CallJson(user, anon, t, $"m-{p}-{k}")));
            }
        }
        all.Sort((a, b) => a.Arrival != b.Arrival ? a.Arrival.CompareTo(b.Arrival) : a.Person != b.Person ? a.Person.CompareTo(b.Person) : a.Seq.CompareTo(b.Seq));
        return (all.Select(a => a.Json).ToList(), all.Select(a => a.Person).ToList(), all.Select(a => a.Ts).ToList());
    }

    [Theory]
    [InlineData("u42", null, "42")]
    [InlineData(null, "a42", "42")]
    [InlineData("u42", "a42", "42")]
    [InlineData("alice", null, "alice")]
    [InlineData(null, "anon-xyz", "anon-xyz")]
    public void Person_key_joins_a_generated_persons_anonymous_and_known_ids(string? user, string? anon, string expected) =>
        Assert.Equal(expected, TrafficPlan.PersonKey(user, anon));

    [Fact]
    public void Partitioning_keeps_each_persons_calls_in_file_order_on_one_connection()
    {
        var (lines, person, _) = Traffic(200, 12, 1);
        var plan = TrafficPlan.Plan(lines, 16);
        Assert.Equal(TrafficPlan.Plan(lines, 16).Select(c => c.Partition), plan.Select(c => c.Partition)); // stable

        var byPerson = plan.GroupBy(c => person[c.Index]).ToList();
        Assert.All(byPerson, g => Assert.Single(g.Select(c => c.Partition).Distinct()));
        Assert.True(plan.Select(c => c.Partition).Distinct().Count() > 8, "persons spread over the connections");

        // a connection's queue is its calls in file order, so each person's calls keep file order
        foreach (var conn in plan.GroupBy(c => c.Partition))
        {
            var indices = conn.Select(c => c.Index).ToList();
            Assert.Equal(indices.Order(), indices);
        }
    }

    [Fact]
    public void Front_is_the_running_maximum_of_event_times()
    {
        var (lines, _, ts) = Traffic(50, 10, 2);
        var plan = TrafficPlan.Plan(lines, 4);
        long max = long.MinValue;
        for (int i = 0; i < plan.Length; i++)
        {
            max = Math.Max(max, ts[i].Ticks);
            Assert.Equal(ts[i].Ticks, plan[i].TsTicks);
            Assert.Equal(max, plan[i].FrontTicks);
        }
    }

    /// <summary>
    /// Simulates a replay with random acknowledgment order and checks, whenever a call is sent, that the watermark the
    /// engine could have reached (latest event time sent − lateness) is before the event time of every call still to
    /// be acknowledged, and that every catalog line goes after exactly its prefix.
    /// </summary>
    [Theory]
    [InlineData(1, 60)]
    [InlineData(2, 60)]
    [InlineData(3, 3600)]
    public void Lockstep_window_never_lets_the_watermark_pass_a_call_still_to_be_sent(int seed, int latenessSeconds)
    {
        var (lines, _, _) = Traffic(300, 10, seed);
        const int connections = 8, batch = 5;
        var plan = TrafficPlan.Plan(lines, connections);
        var lateness = TimeSpan.FromSeconds(latenessSeconds);
        var catalogAfter = new long[] { 0, 100, 100, 1000, plan.Length };
        var gate = new LockstepGate(plan.Select(c => c.FrontTicks).ToArray(), catalogAfter, LockstepGate.WindowFor(lateness));
        var queues = Enumerable.Range(0, connections).Select(c => new Queue<int>(plan.Where(p => p.Partition == c).Select(p => p.Index))).ToArray();
        var inFlight = new List<List<int>>();
        var rnd = new Random(seed);
        var acked = new bool[plan.Length];
        long maxSent = long.MinValue;
        int catalogsSent = 0, steps = 0;

        while (!gate.AllAcknowledged)
        {
            Assert.True(++steps < 1_000_000, "replay made no progress");
            if (gate.TakeDueCatalog() is var k and >= 0)
            {
                Assert.Equal(catalogsSent, k);
                Assert.All(Enumerable.Range(0, (int)Math.Min(catalogAfter[k], plan.Length)), i => Assert.True(acked[i]));
                Assert.DoesNotContain(inFlight.SelectMany(b => b), i => i >= catalogAfter[k]);
                gate.CatalogAcknowledged();
                catalogsSent++;
                continue;
            }
            // each idle connection sends what the gate allows
            for (int c = 0; c < connections; c++)
            {
                if (inFlight.Any(b => plan[b[0]].Partition == c)) continue;
                var b = new List<int>();
                while (b.Count < batch && queues[c].Count > 0 && gate.CanSend(queues[c].Peek())) b.Add(queues[c].Dequeue());
                if (b.Count == 0) continue;
                foreach (var i in b)
                {
                    maxSent = Math.Max(maxSent, plan[i].TsTicks);
                    Assert.True(catalogsSent == catalogAfter.Length || i < catalogAfter[catalogsSent], "a call overtook its catalog line");
                }
                inFlight.Add(b);
            }
            long watermark = maxSent - lateness.Ticks;
            for (int i = 0; i < plan.Length; i++)
                if (!acked[i])
                    Assert.True(plan[i].TsTicks > watermark, $"watermark {new DateTime(watermark):O} passed call {i} at {new DateTime(plan[i].TsTicks):O}");
            if (inFlight.Count == 0) continue;
            // acknowledge one request, chosen at random
            var done = inFlight[rnd.Next(inFlight.Count)];
            inFlight.Remove(done);
            foreach (var i in done) { gate.Acknowledge(i); acked[i] = true; }
        }
        Assert.Equal(catalogAfter.Length, catalogsSent);
        Assert.All(acked, Assert.True);
    }

    [Fact]
    public void A_messagepack_calls_file_splits_into_its_calls_in_file_order()
    {
        var calls = Enumerable.Range(0, 1_000).Select(i => CallJson($"u{i}", null, T0.AddSeconds(i), $"m{i}"))
            .Select(c => MessagePack.MessagePackSerializer.ConvertFromJson(Encoding.UTF8.GetString(c))).ToArray();
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, calls.SelectMany(c => c).ToArray());

            var split = TrafficPlan.SplitMessagePack(path);

            Assert.Equal(calls.Length, split.Count);
            for (var i = 0; i < calls.Length; i++) Assert.Equal(calls[i], split[i]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Json_and_messagepack_batch_bodies_hold_the_same_calls()
    {
        var calls = new[] { CallJson("u1", null, T0, "m1"), CallJson(null, "a2", T0.AddSeconds(1), "m2") };
        var json = TrafficPlan.BatchBody(calls, messagePack: false);
        using var d = JsonDocument.Parse(json);
        Assert.Equal(2, BareServer.CountCalls(d));

        var packed = calls.Select(c => MessagePack.MessagePackSerializer.ConvertFromJson(Encoding.UTF8.GetString(c))).ToArray();
        var mp = TrafficPlan.BatchBody(packed, messagePack: true);
        using var d2 = JsonDocument.Parse(MessagePack.MessagePackSerializer.ConvertToJson(mp));
        Assert.Equal(d.RootElement.GetRawText(), d2.RootElement.GetRawText());
    }

    [Fact]
    public void Report_json_is_valid_and_round_trips_and_the_html_is_self_contained()
    {
        var samples = new List<RequestSample>
        {
            new(0, 1_000, 100, T0.Ticks), new(500, 2_500, 100, T0.AddMinutes(2).Ticks), new(1_200_000, 1_203_000, 50, T0.AddMinutes(5).Ticks),
        };
        var seen = new List<SeenDecision> { new("d1", "welcome", T0.AddSeconds(30).Ticks, 3_000), new("d2", "price_drop", T0.AddMinutes(3).Ticks, 1_210_000) };
        var latency = ReplayFigures.Decisions(samples, seen, TimeSpan.FromMinutes(1));
        Assert.NotNull(latency);
        Assert.Equal(0, latency.Unattributed);
        Assert.Equal(2, latency.Decisions);
        var h = ConnectionStats.NewHistogram();
        foreach (var s in samples) h.RecordValue(s.EndUs - s.StartUs);
        var f = new ReplayFigures
        {
            StartedAt = "2030-01-01T00:00:00Z", Urls = ["http://127.0.0.1:1"], Traffic = "/tmp/t", Format = "json", Batch = 100, Connections = 2,
            Rate = 0, AllowedLateness = "00:01:00", Window = "00:00:29", Machine = new() { ["processors"] = "2" }, Consents = 1, ConsentSeconds = 0.1,
            Events = 250, CatalogLines = 0, Requests = 3, DurationSeconds = 1.2, EventsPerSecond = 208, RequestsPerSecond = 2.5, MeanEventsPerRequest = 83.3,
            HttpLatency = Percentiles.From(h), ErrorsByStatus = new() { ["429"] = 2 }, Retries = 2, DecisionLatency = latency,
            Series = ReplayFigures.SeriesOf(samples, 0),
        };
        var json = f.ToJson();
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(250, doc.RootElement.GetProperty("events").GetInt64());
        Assert.Equal(2, doc.RootElement.GetProperty("series").GetArrayLength());
        Assert.True(doc.RootElement.GetProperty("httpLatency").GetProperty("p99").GetDouble() > 0);
        var back = ReplayFigures.FromJson(json);
        Assert.Equal(f.Events, back.Events);
        Assert.Equal(f.HttpLatency, back.HttpLatency);
        Assert.Equal(1.0, back.WithReference("bare", f).Reference!.ThroughputFraction);

        var html = HtmlReport.Render(f);
        Assert.Contains("<svg", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("src=", html);
    }
}
