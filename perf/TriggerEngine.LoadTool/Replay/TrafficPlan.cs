using System.Buffers;
using System.Text;
using System.Text.Json;
using MessagePack;
using TriggerEngine.LoadTool.Oracle;

namespace TriggerEngine.LoadTool.Replay;

/// <summary>One line of calls.ndjson as the replayer needs it.</summary>
/// <param name="Index">position in calls.ndjson (0-based)</param>
/// <param name="Partition">connection it goes on (stable hash of the person key)</param>
/// <param name="TsTicks">its event time (UTC ticks)</param>
/// <param name="FrontTicks">the largest event time of lines 0..Index ("how far the file has got"), non-decreasing</param>
/// <param name="Body">the call as sent: UTF-8 JSON or one MessagePack map</param>
internal readonly record struct PlannedCall(int Index, int Partition, long TsTicks, long FrontTicks, byte[] Body, string Person = "");

/// <summary>
/// One line of catalog.ndjson: the bodies of <c>POST /v1/catalog</c>, sent one after the other once the first <c>AfterCall</c>
/// calls are acknowledged. A line is split into several requests when its products would exceed the engine's default
/// body limit (500 KB; the generator's first line holds the whole catalog); all of them go before any later call.
/// </summary>
internal sealed record PlannedCatalog(long AfterCall, IReadOnlyList<string> Bodies);

/// <summary>
/// A traffic directory (perf/FORMAT.md) loaded for replay: consents, calls partitioned by person, catalog lines, final watermark.
/// </summary>
internal sealed class TrafficPlan
{
    public required List<(string CustomerId, string Body)> Consents { get; init; }
    public required PlannedCall[] Calls { get; init; }
    public required List<PlannedCatalog> Catalog { get; init; }
    public required DateTime FinalWatermark { get; init; }
    public required int Partitions { get; init; }
    public required bool MessagePack { get; init; }

    /// <summary>
    /// The person a call belongs to: <c>userId ?? anonymousId</c>, with the generator's <c>u{i}</c> / <c>a{i}</c> prefixes
    /// stripped, so a person's anonymous calls, the identify that merges them and the known calls share one key
    /// (FORMAT.md replay protocol 3). Ids of any other shape are their own key.
    /// </summary>
    public static string PersonKey(string? userId, string? anonymousId)
    {
        var id = userId ?? anonymousId ?? "";
        if (id.Length > 1 && id[0] is 'u' or 'a')
        {
            bool digits = true;
            for (int k = 1; k < id.Length && digits; k++) digits = char.IsAsciiDigit(id[k]);
            if (digits) return id[1..];
        }
        return id;
    }

    /// <summary>Stable (process- and run-independent) partition of a person key: FNV-1a 64 of its UTF-8 bytes.</summary>
    public static int Partition(string personKey, int partitions)
    {
        ulong h = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(personKey)) { h ^= b; h *= 1099511628211UL; }
        return (int)(h % (ulong)partitions);
    }

    public static TrafficPlan Load(string dir, int partitions, bool messagePack)
    {
        var consents = new List<(string, string)>();
        foreach (var line in File.ReadLines(Path.Combine(dir, "consent.ndjson")))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var d = JsonDocument.Parse(line);
            consents.Add((d.RootElement.GetProperty("customerId").GetString()!, d.RootElement.GetProperty("record").GetRawText()));
        }

        var catalog = new List<PlannedCatalog>();
        foreach (var line in File.ReadLines(Path.Combine(dir, "catalog.ndjson")))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var d = JsonDocument.Parse(line);
            catalog.Add(new PlannedCatalog(d.RootElement.GetProperty("afterCall").GetInt64(),
                CatalogBodies(d.RootElement.GetProperty("products").EnumerateArray().Select(p => p.GetRawText()))));
        }

        var jsonLines = new List<byte[]>();
        foreach (var line in File.ReadLines(Path.Combine(dir, "calls.ndjson")))
            if (!string.IsNullOrWhiteSpace(line)) jsonLines.Add(Encoding.UTF8.GetBytes(line));
        List<byte[]>? packed = messagePack ? SplitMessagePack(Path.Combine(dir, "calls.msgpack")) : null;
        if (packed is not null && packed.Count != jsonLines.Count)
            throw new InvalidDataException($"calls.msgpack holds {packed.Count} calls, calls.ndjson {jsonLines.Count}");

        var calls = Plan(jsonLines, partitions);
        if (packed is not null)
            for (int i = 0; i < calls.Length; i++) calls[i] = calls[i] with { Body = packed[i] };

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")));
        return new TrafficPlan
        {
            Consents = consents, Calls = calls, Catalog = catalog, Partitions = partitions, MessagePack = messagePack,
            FinalWatermark = Time.Parse(manifest.RootElement.GetProperty("finalWatermark").GetString()!),
        };
    }

    /// <summary>Largest catalog request body the replayer sends (the engine's default limit is 500 KB).</summary>
    public const int MaxCatalogBodyBytes = 400 * 1024;

    /// <summary><c>{"products":[...]}</c> bodies of at most <see cref="MaxCatalogBodyBytes"/>, products in order.</summary>
    public static List<string> CatalogBodies(IEnumerable<string> products, int maxBytes = MaxCatalogBodyBytes)
    {
        var bodies = new List<string>();
        var sb = new StringBuilder();
        int n = 0;
        void Close()
        {
            if (n == 0) return;
            bodies.Add("{\"products\":[" + sb + "]}");
            sb.Clear();
            n = 0;
        }
        foreach (var p in products)
        {
            if (n > 0 && sb.Length + p.Length + 20 > maxBytes) Close();
            if (n++ > 0) sb.Append(',');
            sb.Append(p);
        }
        Close();
        if (bodies.Count == 0) bodies.Add("{\"products\":[]}");
        return bodies;
    }

    /// <summary>Partition, event time and front of each call (JSON lines, file order).</summary>
    public static PlannedCall[] Plan(IReadOnlyList<byte[]> jsonLines, int partitions)
    {
        var calls = new PlannedCall[jsonLines.Count];
        long front = long.MinValue;
        for (int i = 0; i < jsonLines.Count; i++)
        {
            var (_, user, anon, ts) = Scan(jsonLines[i]);
            long t = ts?.Ticks ?? (front == long.MinValue ? 0 : front); // no timestamp: the engine uses its watermark
            front = Math.Max(front, t);
            var person = PersonKey(user, anon);
            calls[i] = new PlannedCall(i, Partition(person, partitions), t, front, jsonLines[i], person);
        }
        return calls;
    }

    /// <summary>type, userId, anonymousId and timestamp of one call, reading only its top level.</summary>
    public static (string? Type, string? User, string? Anon, DateTime? Ts) Scan(byte[] json)
    {
        var r = new Utf8JsonReader(json);
        string? type = null, user = null, anon = null;
        DateTime? ts = null;
        r.Read(); // StartObject
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("type")) { r.Read(); type = r.TokenType == JsonTokenType.String ? r.GetString() : null; }
            else if (r.ValueTextEquals("userId")) { r.Read(); user = r.TokenType == JsonTokenType.String ? r.GetString() : null; }
            else if (r.ValueTextEquals("anonymousId")) { r.Read(); anon = r.TokenType == JsonTokenType.String ? r.GetString() : null; }
            else if (r.ValueTextEquals("timestamp")) { r.Read(); ts = r.TokenType == JsonTokenType.String ? Time.Parse(r.GetString()!) : null; }
            else { r.Read(); r.Skip(); }
        }
        return (type, user, anon, ts);
    }

    /// <summary>Each top-level MessagePack value of the file, read as a stream: a 10M-call file is over 2 GB, more than
    /// one array holds.</summary>
    public static List<byte[]> SplitMessagePack(string path)
    {
        var result = new List<byte[]>();
        using var file = File.OpenRead(path);
        using var reader = new MessagePackStreamReader(file);
        while (reader.ReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult() is { } value)
            result.Add(value.ToArray());
        return result;
    }

    /// <summary>The body of one <c>POST /v1/batch</c>: <c>{"batch":[...]}</c> as JSON, or the same as a MessagePack map.</summary>
    public static byte[] BatchBody(IReadOnlyList<byte[]> calls, bool messagePack)
    {
        if (messagePack)
        {
            var buf = new ArrayBufferWriter<byte>(calls.Sum(c => c.Length) + 16);
            var w = new MessagePackWriter(buf);
            w.WriteMapHeader(1);
            w.Write("batch");
            w.WriteArrayHeader(calls.Count);
            w.Flush();
            foreach (var c in calls) buf.Write(c);
            return buf.WrittenSpan.ToArray();
        }
        var prefix = "{\"batch\":["u8;
        var size = prefix.Length + calls.Sum(c => c.Length) + calls.Count + 2;
        var body = new byte[size];
        int p = 0;
        prefix.CopyTo(body);
        p += prefix.Length;
        for (int i = 0; i < calls.Count; i++)
        {
            if (i > 0) body[p++] = (byte)',';
            calls[i].CopyTo(body, p);
            p += calls[i].Length;
        }
        body[p++] = (byte)']';
        body[p++] = (byte)'}';
        return body.AsSpan(0, p).ToArray();
    }
}
