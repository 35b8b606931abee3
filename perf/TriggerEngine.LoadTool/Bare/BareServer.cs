using System.Text.Json;
using MessagePack;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TriggerEngine.LoadTool.Bare;

/// <summary>
/// The reference for "what the HTTP and JSON layer alone allows": a bare ASP.NET Core minimal API that answers the
/// replayer's requests without an engine behind them. <c>POST /v1/batch</c> reads the whole body, parses it with
/// System.Text.Json (MessagePack is first converted to JSON, as the engine does), walks every call and every property,
/// and answers <c>200 {"success":true}</c>. Consent, catalog and watermark requests are read and answered 200, so
/// <c>replay</c> runs unchanged against it. No auth, no limits, no logging.
/// </summary>
internal static class BareServer
{
    private static readonly byte[] Success = """{"success":true}"""u8.ToArray();

    public static async Task<int> Run(string urls, TextWriter log)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 10 * 1024 * 1024);
        await using var app = builder.Build();

        long calls = 0, requests = 0;
        app.MapPost("/v1/batch", async (HttpContext http) =>
        {
            var n = await CountCalls(http.Request);
            Interlocked.Add(ref calls, n);
            Interlocked.Increment(ref requests);
            await Ok(http);
        });
        app.MapPut("/v1/consent/{id}", async (HttpContext http) => { await Drain(http.Request); await Ok(http); });
        app.MapPost("/v1/catalog", async (HttpContext http) => { await Drain(http.Request); await Ok(http); });
        app.MapPost("/v1/admin/watermark", async (HttpContext http) => { await Drain(http.Request); await Ok(http); });
        app.MapGet("/health/live", () => Results.Ok());

        await app.StartAsync();
        log.WriteLine($"bare reference endpoint on {urls} (POST /v1/batch parses and answers 200); Ctrl-C to stop");
        await app.WaitForShutdownAsync(); // Ctrl-C or SIGTERM
        log.WriteLine($"bare: {Interlocked.Read(ref requests)} batches, {Interlocked.Read(ref calls)} calls");
        return 0;
    }

    /// <summary>Parses a batch body fully and counts its calls (each call's properties are enumerated).</summary>
    internal static async Task<int> CountCalls(HttpRequest request)
    {
        using var doc = IsMessagePack(request.ContentType)
            ? JsonDocument.Parse(MessagePackSerializer.ConvertToJson(await ReadAll(request)))
            : await JsonDocument.ParseAsync(request.Body);
        return CountCalls(doc);
    }

    internal static int CountCalls(JsonDocument doc)
    {
        int n = 0;
        foreach (var call in doc.RootElement.GetProperty("batch").EnumerateArray())
        {
            foreach (var p in call.EnumerateObject()) _ = p.Value.ValueKind;
            n++;
        }
        return n;
    }

    private static bool IsMessagePack(string? contentType) =>
        contentType is not null && contentType.Contains("msgpack", StringComparison.OrdinalIgnoreCase);

    private static async Task<ReadOnlyMemory<byte>> ReadAll(HttpRequest request)
    {
        using var ms = new MemoryStream();
        await request.Body.CopyToAsync(ms);
        return ms.GetBuffer().AsMemory(0, (int)ms.Length);
    }

    private static async Task Drain(HttpRequest request) => await request.Body.CopyToAsync(Stream.Null);

    private static async Task Ok(HttpContext http)
    {
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = Success.Length;
        await http.Response.Body.WriteAsync(Success);
    }
}
