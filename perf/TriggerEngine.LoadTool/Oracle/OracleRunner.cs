using System.Text.Json;

namespace TriggerEngine.LoadTool.Oracle;

/// <summary>Runs the reference oracle over a traffic directory in the replay order of perf/FORMAT.md.</summary>
internal static class OracleRunner
{
    public static List<DecisionRecord> Run(string dir, OracleSettings? settings = null)
    {
        var oracle = new ReferenceOracle(settings);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")));
        var finalWatermark = Time.Parse(manifest.RootElement.GetProperty("finalWatermark").GetString()!);

        foreach (var line in File.ReadLines(Path.Combine(dir, "consent.ndjson")))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var d = JsonDocument.Parse(line);
            oracle.PutConsent(d.RootElement.GetProperty("customerId").GetString()!, ConsentRecord.Parse(d.RootElement.GetProperty("record")));
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
            oracle.Apply(Call.Parse(line));
            ApplyCatalogUpTo(++n);
        }
        ApplyCatalogUpTo(long.MaxValue);
        oracle.Finish(finalWatermark);
        return oracle.Decisions;
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
