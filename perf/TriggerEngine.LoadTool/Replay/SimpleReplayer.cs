using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace TriggerEngine.LoadTool.Replay;

/// <summary>
/// A minimal sequential replayer (FORMAT.md protocol on one connection): consents, then calls in /v1/batch requests of
/// up to 100 in file order, catalog lines at their afterCall positions, then the final watermark.
/// </summary>
internal static class SimpleReplayer
{
    public static async Task<int> Run(string url, string dir, string writeKey, string adminKey, int batchSize, TextWriter log)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(10) };
        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":")));
        var bearer = new AuthenticationHeaderValue("Bearer", adminKey);

        async Task Send(HttpMethod method, string path, string body, AuthenticationHeaderValue auth)
        {
            for (int attempt = 0; ; attempt++)
            {
                using var req = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                req.Headers.Authorization = auth;
                using var res = await http.SendAsync(req);
                var text = await res.Content.ReadAsStringAsync();
                if (res.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable && attempt < 20)
                {
                    await Task.Delay(res.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                    continue;
                }
                if (!res.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path}: {(int)res.StatusCode} {text}");
                if (text.Contains("\"success\":false", StringComparison.Ordinal)) log.WriteLine($"warning: {path} partially rejected: {text}");
                return;
            }
        }

        var sw = System.Diagnostics.Stopwatch.StartNew();
        int consents = 0;
        foreach (var line in File.ReadLines(Path.Combine(dir, "consent.ndjson")).Where(l => !string.IsNullOrWhiteSpace(l)))
        {
            using var d = JsonDocument.Parse(line);
            var id = d.RootElement.GetProperty("customerId").GetString()!;
            await Send(HttpMethod.Put, "/v1/consent/" + Uri.EscapeDataString(id), d.RootElement.GetProperty("record").GetRawText(), bearer);
            consents++;
        }

        var catalog = File.ReadLines(Path.Combine(dir, "catalog.ndjson")).Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => { using var d = JsonDocument.Parse(l); return (After: d.RootElement.GetProperty("afterCall").GetInt64(), Body: $"{{\"products\":{d.RootElement.GetProperty("products").GetRawText()}}}"); })
            .ToList();
        int nextCatalog = 0;
        long sent = 0;
        async Task CatalogUpTo(long n)
        {
            while (nextCatalog < catalog.Count && catalog[nextCatalog].After <= n) await Send(HttpMethod.Post, "/v1/catalog", catalog[nextCatalog++].Body, bearer);
        }
        await CatalogUpTo(0);
        var batch = new List<string>(batchSize);
        async Task Flush()
        {
            if (batch.Count == 0) return;
            await Send(HttpMethod.Post, "/v1/batch", "{\"batch\":[" + string.Join(",", batch) + "]}", basic);
            sent += batch.Count;
            batch.Clear();
            await CatalogUpTo(sent);
        }
        foreach (var line in File.ReadLines(Path.Combine(dir, "calls.ndjson")))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            batch.Add(line);
            // cut the batch where a catalog line must go in
            if (batch.Count >= batchSize || (nextCatalog < catalog.Count && catalog[nextCatalog].After == sent + batch.Count)) await Flush();
        }
        await Flush();
        await CatalogUpTo(long.MaxValue);

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")));
        var final = manifest.RootElement.GetProperty("finalWatermark").GetString()!;
        await Send(HttpMethod.Post, "/v1/admin/watermark", JsonSerializer.Serialize(new { to = final }), bearer);
        log.WriteLine($"replayed {consents} consents, {sent} calls, {catalog.Count} catalog lines, watermark {final} in {sw.Elapsed.TotalSeconds:F1} s");
        return 0;
    }
}
