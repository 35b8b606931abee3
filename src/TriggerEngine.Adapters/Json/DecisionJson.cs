using System.Globalization;
using System.Text.Json;
using TriggerEngine.Core.Decisions;

namespace TriggerEngine.Adapters.Json;

/// <summary>The decision record's JSON shape (SPEC 5), shared by every sink and the explain endpoint.</summary>
public static class DecisionJson
{
    private static readonly JsonSerializerOptions PayloadOptions = new() { PropertyNamingPolicy = null };

    public static string Time(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static void Write(Utf8JsonWriter w, TriggerDecision d)
    {
        w.WriteStartObject();
        w.WriteString("decisionId", d.DecisionId);
        w.WriteString("customerId", d.CustomerId);
        w.WriteString("scenario", d.Scenario);
        w.WriteString("outcome", d.Outcome);
        w.WriteString("suppressedBy", d.SuppressedBy);
        w.WriteString("channel", d.Channel);
        w.WriteString("purpose", d.Purpose);
        w.WriteNumber("priority", d.Priority);
        w.WriteString("firedAt", Time(d.FiredAt));
        w.WriteString("decidedAt", Time(d.DecidedAt));
        if (d.DeferredUntil is { } until) w.WriteString("deferredUntil", Time(until));
        w.WriteString("reason", d.Reason);
        w.WriteStartArray("basedOn");
        foreach (var id in d.BasedOn) w.WriteStringValue(id);
        w.WriteEndArray();
        w.WritePropertyName("payload");
        JsonSerializer.Serialize(w, d.Payload, PayloadOptions);
        w.WriteEndObject();
    }

    public static string ToLine(TriggerDecision d)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer)) Write(w, d);
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
