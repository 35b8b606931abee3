using System.Buffers;
using System.Text.Json;
using TriggerEngine.Adapters.Json;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Core.Policy;

namespace TriggerEngine.Host.Api;

/// <summary><c>GET /v1/customers/{id}</c>: state, active scenario instances, consent, caps and decisions.</summary>
public sealed class ExplainResult(CustomerExplanation x, ConsentRecord? consent) : IResult
{
    public async Task ExecuteAsync(HttpContext http)
    {
        http.Response.ContentType = "application/json";
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        await using (var w = new Utf8JsonWriter(buffer)) Write(w);
        await http.Response.Body.WriteAsync(buffer.WrittenMemory, http.RequestAborted);
    }

    private void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("customerId", x.CustomerId);
        if (x.MergedInto is { } into) w.WriteString("mergedInto", into);
        w.WriteString("timezone", x.TimeZone);
        if (x.LastEventAt is { } last) w.WriteString("lastEventAt", DecisionJson.Time(last));
        else w.WriteNull("lastEventAt");
        w.WritePropertyName("traits");
        JsonSerializer.Serialize(w, x.Traits);
        w.WritePropertyName("consent");
        if (consent is null) w.WriteNullValue();
        else JsonSerializer.Serialize(w, AdminApi.ConsentJson(consent));
        if (x.NextDue is { } next) w.WriteString("nextDueAt", DecisionJson.Time(next));
        else w.WriteNull("nextDueAt");
        w.WriteStartArray("activeScenarios");
        foreach (var a in x.ActiveInstances)
        {
            w.WriteStartObject();
            w.WriteString("scenario", a.Scenario);
            w.WriteString("key", a.Key);
            if (a.DueAt is { } due) w.WriteString("dueAt", DecisionJson.Time(due));
            else w.WriteNull("dueAt");
            w.WriteString("state", a.State);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("caps");
        foreach (var c in x.Caps)
        {
            w.WriteStartObject();
            w.WriteString("cap", c.Cap);
            w.WriteNumber("used", c.Used);
            w.WriteNumber("limit", c.Limit);
            w.WriteString("window", c.Window);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("sends");
        foreach (var s in x.Sends)
        {
            w.WriteStartObject();
            w.WriteString("at", DecisionJson.Time(s.At));
            w.WriteString("channel", s.Channel);
            w.WriteString("scenario", s.Scenario);
            w.WriteString("purpose", s.Purpose);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("history");
        foreach (var h in x.History)
        {
            w.WriteStartObject();
            w.WriteString("event", h.Event);
            w.WriteString("timestamp", DecisionJson.Time(h.Timestamp));
            w.WriteString("messageId", h.MessageId);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("decisions");
        foreach (var d in x.Decisions) DecisionJson.Write(w, d);
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
