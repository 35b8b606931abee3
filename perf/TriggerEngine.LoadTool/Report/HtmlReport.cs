using System.Globalization;
using System.Net;
using System.Text;

namespace TriggerEngine.LoadTool.Report;

/// <summary>A small self-contained HTML page (inline SVG, no scripts, no external resources) for one replay report.</summary>
internal static class HtmlReport
{
    private static readonly CultureInfo Ic = CultureInfo.InvariantCulture;

    public static string Render(ReplayFigures f)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Replay report</title>\n<style>")
          .Append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}")
          .Append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}")
          .Append("svg{border:1px solid #ddd;margin:1em 0}.k{color:#666}</style></head><body>\n")
          .Append("<h1>Replay report</h1>\n<table>\n");
        void Row(string k, string v) => sb.Append("<tr><th>").Append(E(k)).Append("</th><td>").Append(E(v)).Append("</td></tr>\n");
        Row("started", f.StartedAt);
        Row("target", string.Join(", ", f.Urls));
        Row("traffic", f.Traffic);
        Row("requests", string.Create(Ic, $"{f.Format}, batches of up to {f.Batch}, {f.Connections} connections, rate {(f.Rate > 0 ? f.Rate.ToString(Ic) + " events/s" : "as fast as accepted")}"));
        Row("lateness / window", $"{f.AllowedLateness} / {f.Window}");
        Row("machine", string.Join(", ", f.Machine.Select(kv => $"{kv.Key} {kv.Value}")));
        Row("consents", string.Create(Ic, $"{f.Consents} in {f.ConsentSeconds:F1} s"));
        Row("events", string.Create(Ic, $"{f.Events} in {f.DurationSeconds:F1} s = {f.EventsPerSecond:F0} events/s ({f.CatalogLines} catalog lines)"));
        Row("requests", string.Create(Ic, $"{f.Requests} = {f.RequestsPerSecond:F0}/s, {f.MeanEventsPerRequest:F1} events each"));
        var h = f.HttpLatency;
        Row("HTTP latency", string.Create(Ic, $"p50 {h.P50:F2} ms, p90 {h.P90:F2} ms, p99 {h.P99:F2} ms, p99.9 {h.P999:F2} ms, max {h.Max:F2} ms"));
        Row("errors", f.ErrorsByStatus.Count == 0 ? "none" : string.Join(", ", f.ErrorsByStatus.Select(e => $"{e.Key}: {e.Value}")));
        Row("retries", f.Retries.ToString(Ic));
        if (f.WatermarkSeconds is { } ws) Row("final watermark", string.Create(Ic, $"{f.FinalWatermark} in {ws:F1} s"));
        if (f.DecisionLatency is { } d)
        {
            Row("immediate-trigger decisions", $"{d.Decisions} ({string.Join(", ", d.ByScenario.Select(kv => $"{kv.Key} {kv.Value}"))})");
            Row("event-to-decision (from send)", string.Create(Ic, $"p50 {d.FromSend.P50:F1} ms, p99 {d.FromSend.P99:F1} ms, max {d.FromSend.Max:F1} ms"));
            Row("event-to-decision (from ack)", string.Create(Ic, $"p50 {d.FromAck.P50:F1} ms, p99 {d.FromAck.P99:F1} ms"));
        }
        if (f.Reference is { } r)
            Row("reference " + r.Source, string.Create(Ic,
                $"{r.EventsPerSecond:F0} events/s, p50 {r.HttpP50Ms:F2} ms, p99 {r.HttpP99Ms:F2} ms: this run = {r.ThroughputFraction * 100:F1} % of its throughput, p50 x{r.P50Ratio:F2}, p99 x{r.P99Ratio:F2}"));
        sb.Append("</table>\n");

        var x = f.Series.Select(p => (double)p.Second).ToArray();
        sb.Append("<h2>Throughput (events acknowledged per second)</h2>\n")
          .Append(Chart(x, [("events/s", "#1f77b4", f.Series.Select(p => (double)p.Events).ToArray())], "events/s"));
        sb.Append("<h2>HTTP latency per second (ms)</h2>\n")
          .Append(Chart(x, [
              ("p50", "#2ca02c", f.Series.Select(p => p.P50Ms).ToArray()),
              ("p99", "#ff7f0e", f.Series.Select(p => p.P99Ms).ToArray()),
              ("p99.9", "#d62728", f.Series.Select(p => p.P999Ms).ToArray())], "ms"));
        if (f.DecisionLatency is { } dl)
            sb.Append("<p class=\"k\">Event-to-decision latency: ").Append(E(dl.Definition)).Append(".</p>\n");
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    /// <summary>A line chart: x in seconds, one polyline per series, axes with a few ticks, legend.</summary>
    public static string Chart(double[] x, (string Name, string Color, double[] Y)[] series, string unit, int width = 900, int height = 280)
    {
        const int left = 70, right = 20, top = 20, bottom = 40;
        double xMax = x.Length == 0 ? 1 : Math.Max(1, x.Max());
        double yMax = series.SelectMany(s => s.Y).DefaultIfEmpty(0).Max();
        yMax = yMax <= 0 ? 1 : Nice(yMax);
        double Px(double v) => left + v / xMax * (width - left - right);
        double Py(double v) => height - bottom - v / yMax * (height - top - bottom);
        var sb = new StringBuilder();
        sb.Append(string.Create(Ic, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-size=\"11\">\n"));
        for (int k = 0; k <= 4; k++)
        {
            double v = yMax * k / 4, py = Py(v);
            sb.Append(string.Create(Ic, $"<line x1=\"{left}\" y1=\"{py:F1}\" x2=\"{width - right}\" y2=\"{py:F1}\" stroke=\"#eee\"/>"))
              .Append(string.Create(Ic, $"<text x=\"{left - 5}\" y=\"{py + 4:F1}\" text-anchor=\"end\">{Label(v)}</text>\n"));
            double t = xMax * k / 4, px = Px(t);
            sb.Append(string.Create(Ic, $"<text x=\"{px:F1}\" y=\"{height - bottom + 15}\" text-anchor=\"middle\">{t:F0} s</text>\n"));
        }
        sb.Append(string.Create(Ic, $"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"#888\"/>"))
          .Append(string.Create(Ic, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"#888\"/>\n"))
          .Append(string.Create(Ic, $"<text x=\"12\" y=\"{top + 4}\">{E(unit)}</text>\n"));
        int legend = 0;
        foreach (var (name, color, y) in series)
        {
            if (y.Length > 0)
            {
                sb.Append("<polyline fill=\"none\" stroke-width=\"1.2\" stroke=\"").Append(color).Append("\" points=\"");
                for (int i = 0; i < Math.Min(x.Length, y.Length); i++) sb.Append(string.Create(Ic, $"{Px(x[i]):F1},{Py(y[i]):F1} "));
                sb.Append("\"/>\n");
            }
            int lx = left + 10 + legend++ * 90;
            sb.Append(string.Create(Ic, $"<rect x=\"{lx}\" y=\"{height - 14}\" width=\"12\" height=\"3\" fill=\"{color}\"/><text x=\"{lx + 16}\" y=\"{height - 10}\">{E(name)}</text>\n"));
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static double Nice(double v)
    {
        double p = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (var m in new[] { 1, 2, 2.5, 5, 10 }) if (v <= m * p) return m * p;
        return 10 * p;
    }

    private static string Label(double v) => v >= 10_000 ? (v / 1000).ToString("0.#", Ic) + "k" : v.ToString("0.##", Ic);

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
