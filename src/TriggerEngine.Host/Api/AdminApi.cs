using System.Text.Json;
using Microsoft.Extensions.Options;
using TriggerEngine.Adapters.Json;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Ports;
using TriggerEngine.Host.Configuration;
using TriggerEngine.Host.Segment;

namespace TriggerEngine.Host.Api;

/// <summary>Admin endpoints (Bearer admin key): catalog feed, consent, explain, erasure, watermark.</summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1").AddEndpointFilter(async (ctx, next) =>
            ctx.HttpContext.RequestServices.GetRequiredService<Keys>().CheckAdmin(ctx.HttpContext.Request) ?? await next(ctx));

        admin.MapPost("/catalog", Catalog);
        admin.MapPut("/consent/{customerId}", PutConsent);
        admin.MapGet("/consent/{customerId}", async (string customerId, IConsentStore store, CancellationToken ct) =>
            await store.GetAsync(customerId, ct) is { } r
                ? Results.Json(ConsentJson(r))
                : Problems.NotFound($"No consent record for customer '{customerId}'"));
        admin.MapGet("/customers/{customerId}", Explain);
        admin.MapDelete("/customers/{customerId}", Erase);
        admin.MapPost("/admin/watermark", Watermark);
        admin.MapPost("/admin/checkpoint", Checkpoint);
        return app;
    }

    private static async Task<IResult> Catalog(HttpContext http, EngineGateway engine, IOptions<HttpOptions> limits)
    {
        JsonDocument doc;
        try { doc = await RequestBody.ReadAsync(http.Request, limits.Value.MaxBodyBytes, http.RequestAborted); }
        catch (RequestBody.Rejected r) { return r.Problem; }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("products", out var products)
                || products.ValueKind != JsonValueKind.Array)
                return Problems.BadRequest("A catalog body is {\"products\": [ {product update}, ... ]}: the products array is missing");
            var now = engine.Clock.ReceiveTime;
            var updates = new List<CatalogUpdate>();
            var rejected = new List<RejectedCall>();
            var i = 0;
            foreach (var p in products.EnumerateArray())
            {
                try
                {
                    if (p.ValueKind != JsonValueKind.Object) throw new SegmentMapper.InvalidCall("a product update must be a JSON object");
                    var id = SegmentMapper.Str(p, "product_id") ?? throw new SegmentMapper.InvalidCall("product_id is required");
                    updates.Add(new CatalogUpdate(id, SegmentMapper.Dec(p, "price"), SegmentMapper.Str(p, "currency"),
                        SegmentMapper.Bool(p, "in_stock"), SegmentMapper.Str(p, "category"), SegmentMapper.Str(p, "pack_size"),
                        SegmentMapper.Dbl(p, "consumption_days"), SegmentMapper.Time(p, "timestamp") ?? now));
                }
                catch (SegmentMapper.InvalidCall ex) { rejected.Add(new RejectedCall(i, ex.Message)); }
                i++;
            }
            try { await engine.UpdateCatalogAsync(updates, http.RequestAborted); }
            catch (EngineUnavailable ex) { return Problems.Unavailable(ex.Message); }
            return rejected.Count == 0
                ? Results.Json(new { success = true })
                : Results.Json(new
                {
                    success = false, accepted = updates.Count,
                    rejected = rejected.Select(r => new { index = r.Index, error = r.Error }),
                });
        }
    }

    private static async Task<IResult> PutConsent(string customerId, HttpContext http, IConsentStore store, EngineGateway engine,
        IOptions<HttpOptions> limits)
    {
        JsonDocument doc;
        try { doc = await RequestBody.ReadAsync(http.Request, limits.Value.MaxBodyBytes, http.RequestAborted); }
        catch (RequestBody.Rejected r) { return r.Problem; }
        using (doc)
        {
            var b = doc.RootElement;
            if (b.ValueKind != JsonValueKind.Object) return Problems.BadRequest("A consent record must be a JSON object");
            try
            {
                var record = new ConsentRecord(Flags(b, "channels"), Flags(b, "purposes"), SegmentMapper.Int(b, "maxPerWeek"),
                    Strings(b, "optOutTopics"), SegmentMapper.Bool(b, "unsubscribedAll") ?? false,
                    SegmentMapper.Time(b, "updatedAt") ?? engine.Clock.ReceiveTime);
                var held = await store.PutAsync(customerId, record, http.RequestAborted);
                return Results.Json(ConsentJson(held));
            }
            catch (SegmentMapper.InvalidCall ex) { return Problems.BadRequest(ex.Message); }
        }
    }

    private static Dictionary<string, bool> Flags(JsonElement b, string name)
    {
        var d = new Dictionary<string, bool>(StringComparer.Ordinal);
        if (!b.TryGetProperty(name, out var o) || o.ValueKind == JsonValueKind.Null) return d;
        if (o.ValueKind != JsonValueKind.Object) throw new SegmentMapper.InvalidCall($"{name} must be an object of booleans");
        foreach (var p in o.EnumerateObject())
            d[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new SegmentMapper.InvalidCall($"{name}.{p.Name} must be true or false"),
            };
        return d;
    }

    private static List<string> Strings(JsonElement b, string name)
    {
        if (!b.TryGetProperty(name, out var a) || a.ValueKind == JsonValueKind.Null) return [];
        if (a.ValueKind != JsonValueKind.Array) throw new SegmentMapper.InvalidCall($"{name} must be an array of strings");
        return a.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String
            ? x.GetString()!
            : throw new SegmentMapper.InvalidCall($"{name} must be an array of strings")).ToList();
    }

    public static object ConsentJson(ConsentRecord r) => new
    {
        channels = r.Channels,
        purposes = r.Purposes,
        maxPerWeek = r.MaxPerWeek,
        optOutTopics = r.OptOutTopics,
        unsubscribedAll = r.UnsubscribedAll,
        updatedAt = DecisionJson.Time(r.UpdatedAt),
    };

    private static async Task<IResult> Explain(string customerId, HttpContext http, EngineGateway engine, IConsentStore store)
    {
        var ct = http.RequestAborted;
        var consent = await store.GetAsync(customerId, ct);
        var x = await engine.ExplainAsync(customerId, ct);
        if (!x.Exists && consent is null) return Problems.NotFound($"No customer '{customerId}'");
        return new ExplainResult(x, consent);
    }

    private static async Task<IResult> Erase(string customerId, HttpContext http, EngineGateway engine, IConsentStore store)
    {
        try { await engine.EraseAsync(customerId, http.RequestAborted); }
        catch (EngineUnavailable ex) { return Problems.Unavailable(ex.Message); }
        await store.DeleteAsync(customerId, http.RequestAborted);
        return Results.Json(new { customerId, erased = true });
    }

    /// <summary>Saves every changed entity now and truncates the ingest log (operators: before a planned
    /// stop or a backup; tests: to reach a known storage state).</summary>
    private static async Task<IResult> Checkpoint(HttpContext http, EngineGateway engine)
    {
        try
        {
            var done = await engine.CheckpointAsync(http.RequestAborted);
            return Results.Json(new { checkpointed = true, logPosition = done.Through });
        }
        catch (EngineUnavailable ex) { return Problems.Unavailable(ex.Message); }
    }

    private static async Task<IResult> Watermark(HttpContext http, EngineGateway engine)
    {
        DateTimeOffset? to;
        try
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            to = SegmentMapper.Time(doc.RootElement, "to");
        }
        catch (Exception ex) when (ex is JsonException or SegmentMapper.InvalidCall)
        {
            return Problems.BadRequest($"A watermark body is {{\"to\": \"<ISO-8601>\"}}: {ex.Message}");
        }
        if (to is null) return Problems.BadRequest("A watermark body is {\"to\": \"<ISO-8601>\"}: to is missing");
        return await engine.AdvanceWatermarkAsync(to.Value, http.RequestAborted) switch
        {
            WatermarkAdvanced a => Results.Json(new { watermark = DecisionJson.Time(a.Watermark), customersWoken = a.CustomersWoken }),
            WatermarkRejected r => Problems.Conflict(r.Reason),
            WatermarkIncomplete i => Problems.Unavailable(
                $"The watermark is at {DecisionJson.Time(i.Watermark)}, but {i.CustomersNotConfirmed} customers due by then have not confirmed their timers yet ({i.CustomersWoken} did); they stay due: post the same watermark again to retry them"),
            _ => Problems.Unavailable("The watermark could not be moved"),
        };
    }
}
