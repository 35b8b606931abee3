using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TriggerEngine.Host.Configuration;
using TriggerEngine.Host.Segment;

namespace TriggerEngine.Host.Api;

/// <summary>SPEC 2: the Segment-compatible ingestion endpoints.</summary>
public static class SegmentApi
{
    public const string CorsPolicy = "ingest";

    public static IEndpointRouteBuilder MapSegmentApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").RequireCors(CorsPolicy);
        foreach (var type in new[] { "track", "identify", "page", "screen" })
            v1.MapPost("/" + type, (HttpContext http, EngineGateway engine, Keys keys, IOptions<HttpOptions> limits, AdmissionGate gate) =>
                Ingest(http, engine, keys, limits.Value, gate, type));
        v1.MapPost("/batch", (HttpContext http, EngineGateway engine, Keys keys, IOptions<HttpOptions> limits, AdmissionGate gate) =>
            Ingest(http, engine, keys, limits.Value, gate, null));
        return app;
    }

    private static async Task<IResult> Ingest(HttpContext http, EngineGateway engine, Keys keys, HttpOptions limits,
        AdmissionGate gate, string? singleType)
    {
        if (!gate.TryEnter()) return Problems.TooManyRequests("Too many requests in flight; retry after the Retry-After delay");
        try
        {
            JsonDocument doc;
            try { doc = await RequestBody.ReadAsync(http.Request, limits.MaxBodyBytes, http.RequestAborted); }
            catch (RequestBody.Rejected r) { return r.Problem; }
            using (doc)
            {
                var root = doc.RootElement;
                if (keys.CheckWrite(http.Request, root) is { } denied) return denied;
                if (root.ValueKind != JsonValueKind.Object) return Problems.BadRequest("The body must be a JSON object");

                var receivedAt = engine.Clock.ReceiveTime;
                var accepted = new List<MappedCall>();
                var rejected = new List<RejectedCall>();
                if (singleType is not null)
                {
                    try { accepted.Add(SegmentMapper.Map(root, singleType, receivedAt)); }
                    catch (SegmentMapper.InvalidCall ex) { return Problems.BadRequest(ex.Message); }
                }
                else
                {
                    if (!root.TryGetProperty("batch", out var batch) || batch.ValueKind != JsonValueKind.Array)
                        return Problems.BadRequest("A batch body is {\"batch\": [call, ...]}: the batch array is missing");
                    var count = batch.GetArrayLength();
                    if (count > limits.MaxBatchCalls)
                        return Problems.TooLarge($"The batch has {count} calls; the limit is {limits.MaxBatchCalls}");
                    var i = 0;
                    foreach (var call in batch.EnumerateArray())
                    {
                        try
                        {
                            if (call.ValueKind == JsonValueKind.Object && JsonMarshal.GetRawUtf8Value(call).Length > limits.MaxCallBytes)
                                throw new SegmentMapper.InvalidCall($"the call is over the limit of {limits.MaxCallBytes / 1024} KB");
                            accepted.Add(SegmentMapper.Map(call, null, receivedAt));
                        }
                        catch (SegmentMapper.InvalidCall ex) { rejected.Add(new RejectedCall(i, ex.Message)); }
                        i++;
                    }
                }

                try { await engine.IngestAsync(accepted, http.RequestAborted); }
                catch (EngineUnavailable ex) { return Problems.Unavailable(ex.Message); }

                EngineMetrics.EventsAccepted.Inc(accepted.Count);
                EngineMetrics.CallsRejected.Inc(rejected.Count);
                if (rejected.Count == 0) return Results.Json(new { success = true });
                return Results.Json(new
                {
                    success = false,
                    accepted = accepted.Count,
                    rejected = rejected.Select(r => new { index = r.Index, error = r.Error }),
                });
            }
        }
        finally { gate.Exit(); }
    }
}

/// <summary>Bounds the ingestion requests in flight: overload answers 429 instead of queueing without bound.</summary>
public sealed class AdmissionGate(IOptions<HttpOptions> options)
{
    private int _inFlight;
    private readonly int _max = Math.Max(1, options.Value.MaxConcurrentRequests);

    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _inFlight) <= _max) return true;
        Interlocked.Decrement(ref _inFlight);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);
}
