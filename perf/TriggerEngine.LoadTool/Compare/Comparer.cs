using System.Text.Json;
using TriggerEngine.LoadTool.Oracle;

namespace TriggerEngine.LoadTool.Compare;

internal sealed record ActualDecision(string DecisionId, string CustomerId, string Scenario, string Outcome, string? SuppressedBy,
    string? Channel, string? Purpose, DateTime FiredAt, DateTime? DecidedAt, string Line);

internal sealed class CompareResult
{
    public long Expected, Actual, Matched, Missed, Extra, DuplicatedDecisionId, WrongOutcome, DeferredWithoutFinal, ConsentViolations, CapViolations;

    /// <summary>Lines that are not a JSON record: a line cut by a crash of the engine (its record is delivered
    /// again after the restart). Reported, not a discrepancy by itself.</summary>
    public long TornLines;
    public List<string> Examples { get; } = new();

    public bool Clean => Missed + Extra + DuplicatedDecisionId + WrongOutcome + DeferredWithoutFinal + ConsentViolations + CapViolations == 0;

    public Dictionary<string, long> Figures() => new()
    {
        ["expected"] = Expected, ["actual"] = Actual, ["matched"] = Matched, ["missed"] = Missed, ["extra"] = Extra,
        ["duplicatedDecisionId"] = DuplicatedDecisionId, ["wrongOutcome"] = WrongOutcome,
        ["deferredWithoutFinal"] = DeferredWithoutFinal, ["consentViolations"] = ConsentViolations, ["capViolations"] = CapViolations,
        ["tornLines"] = TornLines,
    };
}

/// <summary>Compares the engine's decision records (SPEC 5, all outcomes) with the oracle's expected.ndjson.</summary>
internal static class Comparer
{
    public static CompareResult Run(string expectedPath, string actualPath, string? trafficDir, int maxExamples = 20)
    {
        var expected = File.ReadLines(expectedPath).Where(l => !string.IsNullOrWhiteSpace(l)).Select(ParseExpected).ToList();
        var lines = File.ReadLines(actualPath).Where(l => !string.IsNullOrWhiteSpace(l)).ToList();
        var actual = new List<ActualDecision>(lines.Count);
        var torn = 0;
        foreach (var line in lines)
        {
            try { actual.Add(ParseActual(line)); }
            catch (JsonException) { torn++; }
        }
        var result = Run(expected, actual, trafficDir, maxExamples);
        result.TornLines = torn;
        return result;
    }

    public static CompareResult Run(List<DecisionRecord> expected, List<ActualDecision> actualRecords, string? trafficDir, int maxExamples = 20)
    {
        var r = new CompareResult { Expected = expected.Count };
        void Example(string s) { if (r.Examples.Count < maxExamples) r.Examples.Add(s); }

        // One final record per decisionId; deferred records only need their final.
        var finals = new List<ActualDecision>();
        foreach (var g in actualRecords.GroupBy(a => a.DecisionId))
        {
            var fin = g.Where(a => a.Outcome != "deferred").ToList();
            if (fin.Count > 1) { r.DuplicatedDecisionId++; Example($"duplicated decisionId {g.Key}: {fin.Count} final records"); }
            if (fin.Count > 0) finals.Add(fin[0]);
            else finals.Add(g.Last()); // still deferred: matched against an expected "deferred" (pending at the final watermark)
        }
        r.Actual = finals.Count;

        static (string, string, long) Key(string c, string s, DateTime f) => (c, s, Time.Ms(f).Ticks);
        var exp = expected.GroupBy(e => Key(e.CustomerId, e.Scenario, e.FiredAt)).ToDictionary(g => g.Key, g => g.ToList());
        var act = finals.GroupBy(a => Key(a.CustomerId, a.Scenario, a.FiredAt)).ToDictionary(g => g.Key, g => g.ToList());

        foreach (var key in exp.Keys.Union(act.Keys).OrderBy(k => k.Item3).ThenBy(k => k.Item1, StringComparer.Ordinal).ThenBy(k => k.Item2, StringComparer.Ordinal))
        {
            var es = exp.GetValueOrDefault(key) ?? [];
            var ass = act.GetValueOrDefault(key) ?? [];
            int pairs = Math.Min(es.Count, ass.Count);
            for (int i = 0; i < pairs; i++)
            {
                var e = es[i]; var a = ass[i];
                bool channelMatters = e.Outcome is "sent" or "deferred" || a.Outcome is "sent" or "deferred";
                if (e.Outcome != a.Outcome || e.SuppressedBy != a.SuppressedBy || (channelMatters && e.Channel != a.Channel))
                {
                    if (a.Outcome == "deferred" && e.Outcome != "deferred") { r.DeferredWithoutFinal++; Example($"deferred without final: {a.Line}"); }
                    else { r.WrongOutcome++; Example($"wrong: expected {OracleRunner.ToJson(e)} actual {a.Line}"); }
                }
                else r.Matched++;
            }
            foreach (var e in es.Skip(pairs)) { r.Missed++; Example($"missed: {OracleRunner.ToJson(e)}"); }
            foreach (var a in ass.Skip(pairs))
            {
                if (a.Outcome == "deferred") { r.DeferredWithoutFinal++; Example($"deferred without final (unexpected): {a.Line}"); }
                else { r.Extra++; Example($"extra: {a.Line}"); }
            }
        }

        if (trafficDir is not null) CheckViolations(r, finals.Where(a => a.Outcome == "sent").ToList(), trafficDir, Example);
        return r;
    }

    private static void CheckViolations(CompareResult r, List<ActualDecision> sent, string dir, Action<string> example)
    {
        var s = new OracleSettings();
        var consent = new Dictionary<string, ConsentRecord>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(dir, "consent.ndjson")).Where(l => !string.IsNullOrWhiteSpace(l)))
        {
            using var d = JsonDocument.Parse(line);
            consent[d.RootElement.GetProperty("customerId").GetString()!] = ConsentRecord.Parse(d.RootElement.GetProperty("record"));
        }
        var external = new Dictionary<string, List<(DateTime At, string Channel)>>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(dir, "calls.ndjson")))
        {
            if (!line.Contains("\"Message Sent\"", StringComparison.Ordinal)) continue;
            var c = Call.Parse(line);
            if (c.Event != "Message Sent" || c.UserId is null || !seen.Add(c.MessageId)) continue;
            (external.TryGetValue(c.UserId, out var l) ? l : external[c.UserId] = new()).Add((c.Ts, c.Channel ?? "unknown"));
        }

        foreach (var a in sent)
        {
            var scenario = s.Scenarios.GetValueOrDefault(a.Scenario);
            var purpose = a.Purpose ?? scenario?.Purpose;
            if (!consent.TryGetValue(a.CustomerId, out var rec) || rec.UnsubscribedAll || purpose is null || !rec.Purpose(purpose)
                || a.Channel is null || !rec.Channel(a.Channel))
            { r.ConsentViolations++; example($"sent without consent: {a.Line}"); }
        }

        foreach (var g in sent.Where(a => a.DecidedAt is not null).GroupBy(a => a.CustomerId))
        {
            var sends = g.OrderBy(a => a.DecidedAt).ToList();
            var ext = external.GetValueOrDefault(g.Key) ?? [];
            consent.TryGetValue(g.Key, out var rec);
            int globalMax = Math.Min(s.GlobalMax, rec?.MaxPerWeek ?? int.MaxValue);
            for (int i = 0; i < sends.Count; i++)
            {
                var at = sends[i].DecidedAt!.Value;
                var prior = sends.Take(i).Select(x => (At: x.DecidedAt!.Value, Channel: x.Channel ?? "", x.Scenario))
                    .Concat(ext.Where(m => m.At <= at).Select(m => (m.At, m.Channel, Scenario: "")))
                    .ToList();
                var why = new List<string>();
                if (prior.Count(m => m.At > at - s.GlobalPer) >= globalMax) why.Add("global");
                if (sends[i].Channel is { } ch && s.ChannelCaps.TryGetValue(ch, out var cap) && prior.Count(m => m.Channel == ch && m.At > at - cap.Per) >= cap.Max) why.Add("channel");
                if (prior.Any(m => m.Scenario == sends[i].Scenario && m.At > at - s.ScenarioCooldown)) why.Add("cooldown");
                if (prior.Any(m => m.At > at - s.MinimumGap)) why.Add("minimumGap");
                if (why.Count > 0) { r.CapViolations++; example($"cap exceeded ({string.Join(",", why)}): {sends[i].Line}"); }
            }
        }
    }

    public static DecisionRecord ParseExpected(string line)
    {
        using var d = JsonDocument.Parse(line);
        var e = d.RootElement;
        return new DecisionRecord(Call.Str(e, "customerId")!, Call.Str(e, "scenario")!, Call.Str(e, "outcome")!, Call.Str(e, "suppressedBy"),
            Call.Str(e, "channel"), Time.Parse(Call.Str(e, "firedAt")!),
            Call.Str(e, "decidedAt") is { } da ? Time.Parse(da) : default);
    }

    public static ActualDecision ParseActual(string line)
    {
        using var d = JsonDocument.Parse(line);
        var e = d.RootElement;
        return new ActualDecision(Call.Str(e, "decisionId") ?? line, Call.Str(e, "customerId")!, Call.Str(e, "scenario")!, Call.Str(e, "outcome")!,
            Call.Str(e, "suppressedBy"), Call.Str(e, "channel"), Call.Str(e, "purpose"), Time.Parse(Call.Str(e, "firedAt")!),
            Call.Str(e, "decidedAt") is { } da ? Time.Parse(da) : null, line);
    }

    public static void Print(CompareResult r, TextWriter w)
    {
        w.WriteLine($"{"figure",-24}{"count",10}");
        foreach (var (k, v) in r.Figures()) w.WriteLine($"{k,-24}{v,10}");
        if (r.Examples.Count > 0) { w.WriteLine(); w.WriteLine("examples:"); foreach (var x in r.Examples) w.WriteLine("  " + x); }
        w.WriteLine(r.Clean ? "RESULT: clean" : "RESULT: discrepancies");
    }
}
