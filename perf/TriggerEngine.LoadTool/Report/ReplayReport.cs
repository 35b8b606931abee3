using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using HdrHistogram;
using TriggerEngine.LoadTool.Replay;

namespace TriggerEngine.LoadTool.Report;

/// <summary>Latency percentiles in milliseconds.</summary>
internal sealed record Percentiles(long Count, double P50, double P90, double P99, double P999, double Max, double Mean)
{
    public static Percentiles From(HistogramBase h) => h.TotalCount == 0
        ? new Percentiles(0, 0, 0, 0, 0, 0, 0)
        : new Percentiles(h.TotalCount, Ms(h.GetValueAtPercentile(50)), Ms(h.GetValueAtPercentile(90)), Ms(h.GetValueAtPercentile(99)),
            Ms(h.GetValueAtPercentile(99.9)), Ms(h.GetMaxValue()), Math.Round(h.GetMean() / 1000.0, 3));

    /// <summary>Exact percentiles of a small sample (values in µs, may be negative).</summary>
    public static Percentiles FromValues(IReadOnlyList<long> us)
    {
        if (us.Count == 0) return new Percentiles(0, 0, 0, 0, 0, 0, 0);
        var s = us.Order().ToArray();
        double At(double p) => Ms(s[Math.Clamp((int)Math.Ceiling(p / 100.0 * s.Length) - 1, 0, s.Length - 1)]);
        return new Percentiles(s.Length, At(50), At(90), At(99), At(99.9), Ms(s[^1]), Math.Round(s.Average() / 1000.0, 3));
    }

    private static double Ms(long us) => Math.Round(us / 1000.0, 3);
}

/// <summary>One second of the calls phase (by acknowledgment time).</summary>
internal sealed record SecondPoint(int Second, long Events, long Requests, double P50Ms, double P99Ms, double P999Ms, double MaxMs);

/// <summary>Event-to-decision latency of immediate triggers (see perf/README.md for the definition).</summary>
internal sealed record DecisionLatency(long Decisions, Dictionary<string, long> ByScenario, long Unattributed,
    Percentiles FromSend, Percentiles FromAck, string Definition);

/// <summary>The same figures of a reference run (e.g. <c>bare</c>) and this run's share of them.</summary>
internal sealed record ReferenceFigures(string Source, double EventsPerSecond, double HttpP50Ms, double HttpP99Ms,
    double ThroughputFraction, double P50Ratio, double P99Ratio);

/// <summary>Everything one <c>replay</c> measured; written as OUT.json and rendered as OUT.html.</summary>
internal sealed record ReplayFigures
{
    public required string StartedAt { get; init; }
    public required string[] Urls { get; init; }
    public required string Traffic { get; init; }
    public required string Format { get; init; }
    public required int Batch { get; init; }
    public required int Connections { get; init; }
    public required double Rate { get; init; }
    public required string AllowedLateness { get; init; }
    public required string Window { get; init; }
    public required Dictionary<string, string> Machine { get; init; }
    public required long Consents { get; init; }
    public required double ConsentSeconds { get; init; }
    public required long Events { get; init; }
    public required long CatalogLines { get; init; }
    public required long Requests { get; init; }
    public required double DurationSeconds { get; init; }
    public required double EventsPerSecond { get; init; }
    public required double RequestsPerSecond { get; init; }
    public required double MeanEventsPerRequest { get; init; }
    public required Percentiles HttpLatency { get; init; }
    public required Dictionary<string, long> ErrorsByStatus { get; init; }
    public required long Retries { get; init; }
    public double? WatermarkSeconds { get; init; }
    public string? FinalWatermark { get; init; }
    public long DecisionLines { get; init; }
    public DecisionLatency? DecisionLatency { get; init; }
    public ReferenceFigures? Reference { get; init; }
    public required List<SecondPoint> Series { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ReplayFigures FromJson(string json) => JsonSerializer.Deserialize<ReplayFigures>(json, Json)
        ?? throw new InvalidDataException("empty report");

    /// <summary>This run as a fraction of a reference run's figures.</summary>
    public ReplayFigures WithReference(string source, ReplayFigures r) => this with
    {
        Reference = new ReferenceFigures(source, r.EventsPerSecond, r.HttpLatency.P50, r.HttpLatency.P99,
            Ratio(EventsPerSecond, r.EventsPerSecond), Ratio(HttpLatency.P50, r.HttpLatency.P50), Ratio(HttpLatency.P99, r.HttpLatency.P99)),
    };

    private static double Ratio(double a, double b) => b == 0 ? 0 : Math.Round(a / b, 4);

    public void Print(TextWriter w)
    {
        var ic = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(ic, $"consents   {Consents} in {ConsentSeconds:F1} s"));
        w.WriteLine(string.Create(ic, $"events     {Events} ({CatalogLines} catalog lines) in {DurationSeconds:F1} s: {EventsPerSecond:F0} events/s"));
        w.WriteLine(string.Create(ic, $"requests   {Requests} ({RequestsPerSecond:F0}/s, {MeanEventsPerRequest:F1} events each), {Connections} connections, {Format} batches of up to {Batch}, lateness {AllowedLateness} (window {Window})"));
        var h = HttpLatency;
        w.WriteLine(string.Create(ic, $"latency    p50 {h.P50:F2} ms  p90 {h.P90:F2} ms  p99 {h.P99:F2} ms  p99.9 {h.P999:F2} ms  max {h.Max:F2} ms"));
        w.WriteLine($"errors     {(ErrorsByStatus.Count == 0 ? "none" : string.Join(", ", ErrorsByStatus.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}: {e.Value}")))}; retries {Retries}");
        if (WatermarkSeconds is { } ws) w.WriteLine(string.Create(ic, $"watermark  {FinalWatermark} in {ws:F1} s"));
        if (DecisionLatency is { } d)
            w.WriteLine(string.Create(ic,
                $"decisions  {DecisionLines} lines seen; immediate triggers {d.Decisions} ({string.Join(", ", d.ByScenario.Select(kv => $"{kv.Key} {kv.Value}"))}): event-to-decision p50 {d.FromSend.P50:F1} ms p99 {d.FromSend.P99:F1} ms max {d.FromSend.Max:F1} ms (from send); p50 {d.FromAck.P50:F1} ms p99 {d.FromAck.P99:F1} ms (from ack)"));
        if (Reference is { } r)
            w.WriteLine(string.Create(ic, $"reference  {r.Source}: {r.EventsPerSecond:F0} events/s, p50 {r.HttpP50Ms:F2} ms, p99 {r.HttpP99Ms:F2} ms; this run = {r.ThroughputFraction:P1} of its throughput, p50 x{r.P50Ratio:F2}, p99 x{r.P99Ratio:F2}"));
    }

    /// <summary>Per-second series of the calls phase: events and requests acknowledged, latency percentiles.</summary>
    public static List<SecondPoint> SeriesOf(IEnumerable<RequestSample> samples, long phaseStartUs)
    {
        var bySecond = new SortedDictionary<int, (long Events, long Requests, LongHistogram H)>();
        foreach (var s in samples)
        {
            int sec = (int)Math.Max(0, (s.EndUs - phaseStartUs) / 1_000_000);
            if (!bySecond.TryGetValue(sec, out var b)) b = (0, 0, ConnectionStats.NewHistogram());
            b.H.RecordValue(Math.Clamp(s.EndUs - s.StartUs, 1, 3_600_000_000L));
            bySecond[sec] = (b.Events + s.Events, b.Requests + 1, b.H);
        }
        var result = new List<SecondPoint>();
        if (bySecond.Count == 0) return result;
        for (int sec = 0; sec <= bySecond.Keys.Max(); sec++)
        {
            if (!bySecond.TryGetValue(sec, out var b)) { result.Add(new SecondPoint(sec, 0, 0, 0, 0, 0, 0)); continue; }
            var p = Percentiles.From(b.H);
            result.Add(new SecondPoint(sec, b.Events, b.Requests, p.P50, p.P99, p.P999, p.Max));
        }
        return result;
    }

    /// <summary>
    /// Event-to-decision latency: for each immediate-trigger decision with <c>decidedAt</c> D, the engine can decide it
    /// once its watermark reaches D, i.e. once it has seen an event time ≥ D + allowed lateness. Among the requests
    /// (the final watermark counted as one), find the first <em>sent</em> whose events reach that time: latency from send
    /// = first seen in the sink − that send; and the first <em>acknowledged</em> such request: latency from ack (negative
    /// when the decision was written before the answer came back).
    /// </summary>
    public static DecisionLatency? Decisions(IReadOnlyList<RequestSample> samples, IReadOnlyCollection<SeenDecision> decisions, TimeSpan lateness,
        Func<SeenDecision, (long SendUs, long AckUs)?>? customerCause = null)
    {
        if (decisions.Count == 0) return null;
        var bySend = samples.OrderBy(s => s.StartUs).ToArray();
        var byAck = samples.OrderBy(s => s.EndUs).ToArray();
        long[] PrefixMax(RequestSample[] a)
        {
            var m = new long[a.Length];
            for (int i = 0; i < a.Length; i++) m[i] = Math.Max(i > 0 ? m[i - 1] : long.MinValue, a[i].MaxEventTicks);
            return m;
        }
        var sendMax = PrefixMax(bySend);
        var ackMax = PrefixMax(byAck);
        int First(long[] m, long threshold)
        {
            int lo = 0, hi = m.Length; // first index with m[i] >= threshold
            while (lo < hi) { int mid = (lo + hi) / 2; if (m[mid] >= threshold) hi = mid; else lo = mid + 1; }
            return lo < m.Length ? lo : -1;
        }
        var fromSend = new List<long>();
        var fromAck = new List<long>();
        long unattributed = 0;
        foreach (var d in decisions)
        {
            long threshold = d.DecidedAtTicks + lateness.Ticks;
            int s = First(sendMax, threshold), a = First(ackMax, threshold);
            long? send = s >= 0 ? bySend[s].StartUs : null, ack = a >= 0 ? byAck[a].EndUs : null;
            if (customerCause?.Invoke(d) is { } own) // the customer's own later call fires its due timers before the watermark does
            {
                send = send is { } x ? Math.Min(x, own.SendUs) : own.SendUs;
                ack = ack is { } y ? Math.Min(y, own.AckUs) : own.AckUs;
            }
            if (send is null || ack is null) { unattributed++; continue; }
            fromSend.Add(d.SeenUs - send.Value);
            fromAck.Add(d.SeenUs - ack.Value);
        }
        return new DecisionLatency(decisions.Count,
            decisions.GroupBy(d => d.Scenario).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count()),
            unattributed, Percentiles.FromValues(fromSend), Percentiles.FromValues(fromAck),
            "wall time the decision's first line was seen in the sink (polled every 2 ms) minus the send (resp. acknowledgment) of the " +
            "earliest request that let the engine decide it: the first request carrying an event time >= decidedAt + allowed lateness " +
            "(the watermark reaches decidedAt; the final POST /v1/admin/watermark counts as one), or the request carrying the customer's " +
            "first call with an event time after decidedAt (a customer's due timers fire before its later event), whichever came first");
    }
}
