using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using MessagePack;
using Microsoft.AspNetCore.Http;
using TriggerEngine.Host.Api;
using TriggerEngine.Host.Configuration;
using TriggerEngine.Host.Segment;

namespace TriggerEngine.Benchmarks;

/// <summary>
/// A <c>/v1/batch</c> body to mapped calls, per batch, as the handler (<c>SegmentApi.Ingest</c>) does it:
/// <see cref="RequestBody.ReadAsync"/> (MessagePack is converted to JSON text, then parsed), then the
/// per-call size check and <see cref="SegmentMapper.Map"/> for each call. No HTTP server, no engine.
/// </summary>
[MemoryDiagnoser]
public class BatchDecodingBenchmarks
{
    private static readonly HttpOptions Limits = new();
    private static readonly DateTimeOffset ReceivedAt = Traffic.T0.AddHours(1);

    /// <summary>The options <see cref="RequestBody"/> converts with.</summary>
    private static readonly MessagePackSerializerOptions Untrusted =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    [Params(100, 500)]
    public int Calls { get; set; }

    private byte[] _json = [];
    private byte[] _msgpack = [];

    [GlobalSetup]
    public void Setup()
    {
        var body = Traffic.SegmentBatch(Calls, seed: 11);
        _json = Encoding.UTF8.GetBytes(body);
        _msgpack = MessagePackSerializer.ConvertFromJson(body);
        if (_json.Length > Limits.MaxBodyBytes)
            throw new InvalidOperationException($"{Calls} calls are {_json.Length} bytes, over the {Limits.MaxBodyBytes} limit");
        if (Decode(_json, "application/json", sizeCheck: true) != Calls || Decode(_msgpack, "application/x-msgpack", sizeCheck: true) != Calls)
            throw new InvalidOperationException("not every call was accepted");
        Console.WriteLine($"// {Calls} calls: JSON {_json.Length} bytes, MessagePack {_msgpack.Length} bytes");
    }

    [Benchmark(Baseline = true)]
    public int Json() => Decode(_json, "application/json", sizeCheck: true);

    [Benchmark]
    public int MessagePack() => Decode(_msgpack, "application/x-msgpack", sizeCheck: true);

    /// <summary>The conversion step alone (MessagePack to JSON text), which the JSON path does not have.</summary>
    [Benchmark]
    public int MessagePack_ConvertToJsonOnly() => MessagePackSerializer.ConvertToJson(_msgpack, Untrusted).Length;

    /// <summary>The JSON path without the handler's per-call <c>GetRawText().Length</c> size check.</summary>
    [Benchmark]
    public int Json_WithoutCallSizeCheck() => Decode(_json, "application/json", sizeCheck: false);

    private static int Decode(byte[] body, string contentType, bool sizeCheck)
    {
        var http = new DefaultHttpContext();
        http.Request.ContentType = contentType;
        http.Request.Body = new MemoryStream(body, writable: false);
        using var doc = RequestBody.ReadAsync(http.Request, Limits.MaxBodyBytes, CancellationToken.None).GetAwaiter().GetResult();
        var accepted = new List<MappedCall>();
        foreach (var call in doc.RootElement.GetProperty("batch").EnumerateArray())
        {
            if (sizeCheck && call.ValueKind == JsonValueKind.Object && call.GetRawText().Length > Limits.MaxCallBytes)
                throw new InvalidOperationException("call over the size limit");
            accepted.Add(SegmentMapper.Map(call, null, ReceivedAt));
        }
        return accepted.Count;
    }
}
