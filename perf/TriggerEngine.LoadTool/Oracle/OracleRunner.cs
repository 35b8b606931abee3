using System.Text.Json;
using TriggerEngine.LoadTool.Replay;

namespace TriggerEngine.LoadTool.Oracle;

/// <summary>Runs the reference oracle over a traffic directory in the replay order of perf/FORMAT.md.</summary>
internal static class OracleRunner
{
    /// <summary>
    /// The expected decisions of a traffic directory. With <paramref name="partitions"/> above 1 the oracle runs once
    /// per partition of persons (<see cref="TrafficPlan.PersonKey"/>, as the replayer partitions them), each time
    /// holding only that partition's customers: a customer's decisions depend on its own calls, its consent and the
    /// catalog, which every pass reads whole. Memory falls by the partition count; each pass reads the whole traffic.
    /// </summary>
    public static List<DecisionRecord> Run(string dir, OracleSettings? settings = null, int partitions = 1, TextWriter? log = null)
    {
        if (partitions < 1) throw new ArgumentException("partitions must be at least 1");
        var decisions = new List<DecisionRecord>();
        for (int k = 0; k < partitions; k++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var part = RunPartition(dir, settings, k, partitions);
            decisions.AddRange(part);
            if (partitions > 1) log?.WriteLine($"oracle partition {k + 1}/{partitions}: {part.Count} decisions in {sw.Elapsed.TotalSeconds:F1} s");
        }
        return decisions;
    }

    private static List<DecisionRecord> RunPartition(string dir, OracleSettings? settings, int k, int partitions)
    {
        bool Mine(string? userId, string? anonymousId) =>
            partitions == 1 || TrafficPlan.Partition(TrafficPlan.PersonKey(userId, anonymousId), partitions) == k;
        var oracle = new ReferenceOracle(settings);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")));
        var finalWatermark = Time.Parse(manifest.RootElement.GetProperty("finalWatermark").GetString()!);

        foreach (var line in File.ReadLines(Path.Combine(dir, "consent.ndjson")))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (partitions > 1 && !Mine(TopLevelString(line, "customerId"), null)) continue; // skip the parse of others'
            using var d = JsonDocument.Parse(line);
            var customerId = d.RootElement.GetProperty("customerId").GetString()!;
            if (Mine(customerId, null)) oracle.PutConsent(customerId, ConsentRecord.Parse(d.RootElement.GetProperty("record")));
        }

        using var catalog = File.ReadLines(Path.Combine(dir, "catalog.ndjson")).Where(l => !string.IsNullOrWhiteSpace(l)).GetEnumerator();
        (long AfterCall, List<ProductUpdate> Products)? pending = NextCatalog(catalog);
        long n = 0;
        void ApplyCatalogUpTo(long count)
        {
            while (pending is { } p && p.AfterCall <= count)
            {
                foreach (var u in p.Products) oracle.ApplyCatalog(u);
                pending = NextCatalog(catalog);
            }
        }
        ApplyCatalogUpTo(0);
        foreach (var line in File.ReadLines(Path.Combine(dir, "calls.ndjson")))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (partitions == 1) oracle.Apply(Call.Parse(line));
            else
            {
                // Only this partition's calls are parsed whole; the others are scanned for their ids.
                var (type, user, anon, _) = TrafficPlan.Scan(System.Text.Encoding.UTF8.GetBytes(line));
                if (type == "identify" && user is not null && anon is not null && Mine(user, null) != Mine(anon, null))
                    throw new InvalidOperationException(
                        $"identify of {anon} as {user} crosses oracle partitions: this traffic needs --partitions 1");
                if (Mine(user, anon)) oracle.Apply(Call.Parse(line));
            }
            ApplyCatalogUpTo(++n);
        }
        ApplyCatalogUpTo(long.MaxValue);
        oracle.Finish(finalWatermark);
        return oracle.Decisions;
    }

    /// <summary>One top-level string property of a JSON line, reading nothing below the top level.</summary>
    private static string? TopLevelString(string line, string name)
    {
        var r = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(line));
        r.Read(); // StartObject
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var match = r.ValueTextEquals(name);
            r.Read();
            if (match) return r.TokenType == JsonTokenType.String ? r.GetString() : null;
            r.Skip();
        }
        return null;
    }

    private static (long, List<ProductUpdate>)? NextCatalog(IEnumerator<string> e)
    {
        if (!e.MoveNext()) return null;
        using var d = JsonDocument.Parse(e.Current);
        var products = d.RootElement.GetProperty("products").EnumerateArray().Select(ProductUpdate.Parse).ToList();
        return (d.RootElement.GetProperty("afterCall").GetInt64(), products);
    }

    public static void Write(string path, IEnumerable<DecisionRecord> decisions)
    {
        using var w = new StreamWriter(path);
        foreach (var d in decisions
                     .OrderBy(d => d.FiredAt).ThenBy(d => d.CustomerId, StringComparer.Ordinal).ThenBy(d => d.Scenario, StringComparer.Ordinal))
            w.WriteLine(ToJson(d));
    }

    public static string ToJson(DecisionRecord d) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["customerId"] = d.CustomerId,
        ["scenario"] = d.Scenario,
        ["outcome"] = d.Outcome,
        ["suppressedBy"] = d.SuppressedBy,
        ["channel"] = d.Channel,
        ["firedAt"] = Time.Format(d.FiredAt),
        ["decidedAt"] = Time.Format(d.DecidedAt),
    });
}
