using System.Globalization;
using System.Text.Json;
using TriggerEngine.LoadTool.Bare;
using TriggerEngine.LoadTool.Compare;
using TriggerEngine.LoadTool.Generator;
using TriggerEngine.LoadTool.Oracle;
using TriggerEngine.LoadTool.Replay;

namespace TriggerEngine.LoadTool;

public static class Program
{
    private const string Usage = """
        usage:
          generate --customers N --days D --seed S --out DIR [--duplicate-rate 0.01] [--late-rate 0.01] [--anonymous-rate 0.1] [--group-size 20000] [--no-oracle] [--oracle-partitions K]
          oracle --dir DIR [--partitions K]    (re)compute DIR/expected.ndjson from the traffic; K passes, each holding 1/K of the customers
          compare --expected DIR/expected.ndjson --actual decisions.ndjson [--traffic DIR] [--json FILE] [--examples 20]
          replay-simple --url http://127.0.0.1:5080 --dir DIR [--write-key dev-write-key] [--admin-key dev-admin-key] [--batch 100]
          replay --url URL[,URL2,...] --dir DIR [--batch 100] [--format json|msgpack] [--connections 16] [--rate EVENTS_PER_S (0 = as fast as accepted)]
                 [--report OUT_PREFIX] [--decisions DATA/decisions.ndjson] [--no-watermark] [--lateness 00:01:00 (the engine's Engine:AllowedLateness)]
                 [--reference OTHER_REPORT.json] [--progress true|false] [--write-key dev-write-key] [--admin-key dev-admin-key]
          bare --urls http://127.0.0.1:5099    reference endpoint: parses /v1/batch JSON or MessagePack and answers 200, nothing else
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0) { Console.Error.WriteLine(Usage); return 2; }
        var opt = ParseOptions(args.Skip(1).ToArray());
        string Req(string k) => opt.TryGetValue(k, out var v) ? v : throw new ArgumentException($"missing --{k}\n{Usage}");
        string Opt(string k, string d) => opt.GetValueOrDefault(k, d);
        double D(string k, double d) => double.Parse(Opt(k, d.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        try
        {
            switch (args[0])
            {
                case "generate":
                {
                    var o = new GenOptions(long.Parse(Req("customers"), CultureInfo.InvariantCulture), int.Parse(Req("days"), CultureInfo.InvariantCulture),
                        ulong.Parse(Req("seed"), CultureInfo.InvariantCulture), D("duplicate-rate", 0.01), D("late-rate", 0.01), D("anonymous-rate", 0.1));
                    var sw = System.Diagnostics.Stopwatch.StartNew();
                    var m = TrafficWriter.Generate(o, Req("out"), int.Parse(Opt("group-size", "20000"), CultureInfo.InvariantCulture), !opt.ContainsKey("no-oracle"), Console.Out,
                        int.Parse(Opt("oracle-partitions", "1"), CultureInfo.InvariantCulture));
                    Console.WriteLine($"wrote {Req("out")}: {m["calls"]} calls, {m["consents"]} consents, {m["catalogUpdates"]} catalog updates in {sw.Elapsed.TotalSeconds:F1} s");
                    return 0;
                }
                case "oracle":
                {
                    var dir = Req("dir");
                    var decisions = OracleRunner.Run(dir, partitions: int.Parse(Opt("partitions", "1"), CultureInfo.InvariantCulture), log: Console.Out);
                    OracleRunner.Write(Path.Combine(dir, "expected.ndjson"), decisions);
                    Console.WriteLine($"{decisions.Count} expected decisions");
                    return 0;
                }
                case "compare":
                {
                    var r = Comparer.Run(Req("expected"), Req("actual"), opt.GetValueOrDefault("traffic"), int.Parse(Opt("examples", "20"), CultureInfo.InvariantCulture));
                    Comparer.Print(r, Console.Out);
                    if (opt.TryGetValue("json", out var jf)) File.WriteAllText(jf, JsonSerializer.Serialize(r.Figures(), new JsonSerializerOptions { WriteIndented = true }));
                    return r.Clean ? 0 : 1;
                }
                case "replay-simple":
                    return await SimpleReplayer.Run(Req("url"), Req("dir"), Opt("write-key", "dev-write-key"), Opt("admin-key", "dev-admin-key"),
                        int.Parse(Opt("batch", "100"), CultureInfo.InvariantCulture), Console.Out);
                case "replay":
                {
                    var format = Opt("format", "json");
                    if (format is not ("json" or "msgpack")) throw new ArgumentException("--format json|msgpack");
                    var o = new ReplayOptions(
                        Req("url").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), Req("dir"),
                        Batch: int.Parse(Opt("batch", "100"), CultureInfo.InvariantCulture),
                        MessagePack: format == "msgpack",
                        Connections: int.Parse(Opt("connections", "16"), CultureInfo.InvariantCulture),
                        Rate: D("rate", 0),
                        ReportPrefix: opt.GetValueOrDefault("report"),
                        DecisionsFile: opt.GetValueOrDefault("decisions"),
                        NoWatermark: opt.ContainsKey("no-watermark"),
                        Lateness: TimeSpan.Parse(Opt("lateness", "00:01:00"), CultureInfo.InvariantCulture),
                        WriteKey: Opt("write-key", "dev-write-key"), AdminKey: Opt("admin-key", "dev-admin-key"),
                        ReferenceReport: opt.GetValueOrDefault("reference"),
                        Progress: opt.TryGetValue("progress", out var pr) ? bool.Parse(pr) : null);
                    return await Replayer.Run(o, Console.Out);
                }
                case "bare":
                    return await BareServer.Run(Opt("urls", "http://127.0.0.1:5099"), Console.Out);
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }
        catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
    }

    private static Dictionary<string, string> ParseOptions(string[] args)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument {args[i]}");
            var k = args[i][2..];
            if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) d[k] = args[++i];
            else d[k] = "true";
        }
        return d;
    }
}
