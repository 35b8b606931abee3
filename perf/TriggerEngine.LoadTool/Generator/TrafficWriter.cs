using System.Globalization;
using System.Text;
using System.Text.Json;
using MessagePack;
using TriggerEngine.LoadTool.Oracle;

namespace TriggerEngine.LoadTool.Generator;

/// <summary>
/// Writes the traffic directory of perf/FORMAT.md. Persons are generated in bounded groups; each group's calls are
/// sorted by arrival and spilled to a chunk file; the chunks are k-way merged into calls.ndjson (and calls.msgpack),
/// with the catalog feed interleaved by position. Memory is bounded by the group size, not the customer count.
/// </summary>
internal static class TrafficWriter
{
    public static Dictionary<string, object> Generate(GenOptions o, string dir, int groupSize = 20_000, bool runOracle = true, TextWriter? log = null,
        int oraclePartitions = 1)
    {
        Directory.CreateDirectory(dir);
        var catalog = new CatalogPlan(o.Seed, o.Customers, o.Start, o.End);
        var gen = new PersonGenerator(o, catalog);
        var chunkDir = Path.Combine(dir, ".chunks");
        Directory.CreateDirectory(chunkDir);

        long consents = 0;
        var chunks = new List<string>();
        using (var consent = new StreamWriter(Path.Combine(dir, "consent.ndjson")))
        {
            for (long g = 0; g < o.Customers; g += groupSize)
            {
                var calls = new List<GenCall>();
                for (long i = g; i < Math.Min(o.Customers, g + groupSize); i++)
                {
                    if (gen.ConsentLine(i) is { } line) { consent.WriteLine(line); consents++; }
                    calls.AddRange(gen.Generate(i));
                }
                calls.Sort(Order);
                var path = Path.Combine(chunkDir, $"chunk-{chunks.Count:D5}.tsv");
                using (var w = new StreamWriter(path))
                    foreach (var c in calls)
                        w.WriteLine($"{c.Arrival.Ticks}\t{c.Person}\t{c.Seq}\t{c.Json}");
                chunks.Add(path);
                log?.WriteLine($"generated persons {g}..{Math.Min(o.Customers, g + groupSize) - 1}: {calls.Count} calls");
            }
        }

        long written = 0, catalogUpdates = 0;
        int nextLine = 0;
        using (var calls = new StreamWriter(Path.Combine(dir, "calls.ndjson")))
        using (var msgpack = new BufferedStream(File.Create(Path.Combine(dir, "calls.msgpack")), 1 << 16))
        using (var cat = new StreamWriter(Path.Combine(dir, "catalog.ndjson")))
        {
            void CatalogUpTo(DateTime arrival) // write every catalog line whose last timestamp is before this call's arrival
            {
                while (nextLine < catalog.Lines.Count && (nextLine == 0 || catalog.Lines[nextLine].Last < arrival))
                {
                    cat.WriteLine(CatalogJson(catalog.Lines[nextLine], written));
                    catalogUpdates += catalog.Lines[nextLine].Updates.Count;
                    nextLine++;
                }
            }
            var readers = chunks.Select(p => new StreamReader(p)).ToList();
            var queue = new PriorityQueue<int, (long, long, int)>();
            var current = new string?[readers.Count];
            void Pull(int r)
            {
                var line = readers[r].ReadLine();
                current[r] = line;
                if (line is null) return;
                var parts = line.Split('\t', 4);
                queue.Enqueue(r, (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture)));
            }
            for (int r = 0; r < readers.Count; r++) Pull(r);
            while (queue.TryDequeue(out var r, out var key))
            {
                CatalogUpTo(new DateTime(key.Item1, DateTimeKind.Utc));
                var json = current[r]!.Split('\t', 4)[3];
                calls.WriteLine(json);
                msgpack.Write(MessagePackSerializer.ConvertFromJson(json));
                written++;
                Pull(r);
            }
            CatalogUpTo(DateTime.MaxValue);
            foreach (var rd in readers) rd.Dispose();
        }
        Directory.Delete(chunkDir, recursive: true);

        var manifest = new Dictionary<string, object>
        {
            ["seed"] = o.Seed,
            ["parameters"] = new Dictionary<string, object>
            {
                ["customers"] = o.Customers, ["days"] = o.Days, ["duplicateRate"] = o.DuplicateRate,
                ["lateRate"] = o.LateRate, ["anonymousRate"] = o.AnonymousRate, ["products"] = catalog.Products.Count,
            },
            ["customers"] = o.Customers,
            ["calls"] = written,
            ["catalogUpdates"] = catalogUpdates,
            ["catalogLines"] = catalog.Lines.Count,
            ["consents"] = consents,
            ["start"] = Time.Format(o.Start),
            ["end"] = Time.Format(o.End),
            ["finalWatermark"] = Time.Format(FinalWatermark(o)),
        };
        File.WriteAllText(Path.Combine(dir, "manifest.json"), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));

        if (runOracle)
        {
            var decisions = OracleRunner.Run(dir, partitions: oraclePartitions, log: log);
            OracleRunner.Write(Path.Combine(dir, "expected.ndjson"), decisions);
            manifest["expectedDecisions"] = decisions.Count;
            log?.WriteLine($"oracle: {decisions.Count} decisions; " + string.Join(", ",
                decisions.GroupBy(d => d.Outcome + (d.SuppressedBy is null ? "" : "/" + d.SuppressedBy)).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}")));
        }
        return manifest;
    }

    /// <summary>One day after the last event: every cart, browse and deferral timer is due by then.</summary>
    public static DateTime FinalWatermark(GenOptions o) => o.End.AddDays(1);

    private static int Order(GenCall a, GenCall b)
    {
        int r = a.Arrival.CompareTo(b.Arrival);
        if (r == 0) r = a.Person.CompareTo(b.Person);
        if (r == 0) r = a.Seq.CompareTo(b.Seq);
        return r;
    }

    private static string CatalogJson(CatalogLine line, long afterCall)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("afterCall", afterCall);
            w.WriteStartArray("products");
            foreach (var (p, ts, price, inStock, full) in line.Updates)
            {
                w.WriteStartObject();
                w.WriteString("product_id", p.Id);
                if (price is { } pr) { w.WriteNumber("price", pr); w.WriteString("currency", "EUR"); }
                if (inStock is { } st) w.WriteBoolean("in_stock", st);
                if (full)
                {
                    w.WriteString("category", p.Category.Name);
                    if (p.PackSize is not null) w.WriteString("pack_size", p.PackSize);
                    if (p.ConsumptionDays is { } cd) w.WriteNumber("consumption_days", cd);
                }
                w.WriteString("timestamp", Time.Format(ts));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
