namespace TriggerEngine.LoadTool.Generator;

internal sealed record CategoryDef(string Name, bool Consumable, double MinPrice, double MaxPrice, double[] ConsumptionDays);

internal sealed class CatProduct
{
    public required string Id;
    public required CategoryDef Category;
    public decimal BasePrice;
    public string? PackSize;
    public double? ConsumptionDays;
    /// <summary>Catalog state over time, increasing timestamps; the first entry is the initial state.</summary>
    public readonly List<(DateTime Ts, decimal Price, bool InStock)> History = new();

    public (decimal Price, bool InStock) At(DateTime t)
    {
        int lo = 0, hi = History.Count - 1;
        while (lo < hi) { int mid = (lo + hi + 1) / 2; if (History[mid].Ts <= t) lo = mid; else hi = mid - 1; }
        return (History[lo].Price, History[lo].InStock);
    }
}

/// <summary>One catalog.ndjson line: updates of distinct products, timestamps First..Last one second apart.</summary>
internal sealed record CatalogLine(DateTime First, DateTime Last, List<(CatProduct Product, DateTime Ts, decimal? Price, bool? InStock, bool Full)> Updates);

/// <summary>The shop's catalog and its feed over the run: generated up front (small), deterministic for the seed.</summary>
internal sealed class CatalogPlan
{
    public static readonly CategoryDef[] Categories =
    [
        new("coffee", true, 6, 30, [5, 7, 10, 14]),
        new("pet_food", true, 15, 60, [7, 14, 21]),
        new("baby_care", true, 10, 40, [2, 3, 5]),
        new("vitamins", true, 12, 45, [14, 30]),
        new("cleaning", true, 4, 20, [10, 14, 30]),
        new("beauty", true, 8, 60, [7, 21, 30]),
        new("shoes", false, 40, 180, []),
        new("electronics", false, 25, 900, []),
        new("books", false, 8, 40, []),
        new("home", false, 10, 250, []),
        new("toys", false, 10, 90, []),
        new("fashion", false, 15, 150, []),
    ];

    private static readonly string[] PackSizes = ["S", "M", "L", "XL"];

    public List<CatProduct> Products { get; } = new();
    public Dictionary<string, List<CatProduct>> ByCategory { get; } = new();
    public List<CatalogLine> Lines { get; } = new(); // Lines[0] is the initial catalog at start

    public CatalogPlan(ulong seed, long customers, DateTime start, DateTime end)
    {
        var rng = new Rng(Rng.Mix(seed, 0xCA7A106));
        int count = (int)Math.Clamp(customers / 5, 40, 50_000);
        foreach (var c in Categories) ByCategory[c.Name] = new();
        for (int j = 0; j < count; j++)
        {
            var cat = Categories[j % Categories.Length];
            var p = new CatProduct
            {
                Id = $"p{j:D5}",
                Category = cat,
                BasePrice = Math.Round((decimal)rng.Range(cat.MinPrice, cat.MaxPrice), 2),
            };
            if (cat.Consumable)
            {
                p.PackSize = rng.Chance(0.25) ? "XL" : PackSizes[rng.Int(3)];
                p.ConsumptionDays = rng.Pick(cat.ConsumptionDays);
            }
            p.History.Add((start, p.BasePrice, !rng.Chance(0.08)));
            Products.Add(p);
            ByCategory[cat.Name].Add(p);
        }
        Lines.Add(new CatalogLine(start, start, Products.Select(p => (p, start, (decimal?)p.History[0].Price, (bool?)p.History[0].InStock, true)).ToList()));

        // The feed: every two hours (HH:20 UTC) a few products change price or stock.
        int perInstant = Math.Max(1, (int)Math.Round(count * 0.06 / 12));
        for (var t = start.Date.AddMinutes(20); t < end; t = t.AddHours(2))
        {
            if (t <= start) continue;
            var chosen = new HashSet<int>();
            var updates = new List<(CatProduct, DateTime, decimal?, bool?, bool)>();
            for (int k = 0; k < perInstant; k++)
            {
                int j;
                do j = rng.Int(count); while (!chosen.Add(j) && chosen.Count < count);
                var p = Products[j];
                var (_, price, inStock) = p.History[^1];
                var ts = t.AddSeconds(updates.Count);
                double r = rng.Double();
                decimal? newPrice = null; bool? newStock = null;
                if (!inStock && r < 0.6) newStock = true;                               // restock
                else if (inStock && r < 0.12) newStock = false;                          // sold out
                else if (r < 0.75)                                                        // price drop
                    newPrice = Math.Round(price * (1 - (decimal)rng.Pick(new[] { 0.05, 0.13, 0.2, 0.3 })), 2);
                else newPrice = Math.Round(Math.Max(price, p.BasePrice * 0.9m) * (1 + (decimal)rng.Range(0.05, 0.25)), 2); // back up
                if (newPrice is { } np && np <= 0.5m) newPrice = null;
                if (newPrice is null && newStock is null) continue;
                p.History.Add((ts, newPrice ?? price, newStock ?? inStock));
                updates.Add((p, ts, newPrice, newStock, false));
            }
            if (updates.Count > 0) Lines.Add(new CatalogLine(updates[0].Item2, updates[^1].Item2, updates));
        }
    }

    /// <summary>Does [from, to] touch a catalog line (other than the initial one)?</summary>
    public bool Touches(DateTime from, DateTime to, TimeSpan margin)
    {
        int lo = 1, hi = Lines.Count - 1;
        while (lo <= hi) // first line whose Last + margin >= from
        {
            int mid = (lo + hi) / 2;
            if (Lines[mid].Last + margin < from) lo = mid + 1; else hi = mid - 1;
        }
        return lo < Lines.Count && Lines[lo].First - margin <= to;
    }
}
