using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Host.Segment;

/// <summary>
/// Maps Segment tracking calls (SPEC 2: track, identify, page, screen; e-commerce v2 event names) to
/// the engine's customer events. Each problem is a sentence naming the field.
/// </summary>
public static class SegmentMapper
{
    public sealed class InvalidCall(string message) : Exception(message);

    private static readonly HashSet<string> KnownTypes = new(StringComparer.Ordinal)
        { "track", "identify", "page", "screen", "group", "alias" };

    /// <param name="defaultType">The type given by the path (<c>/v1/track</c>), when the call has none.</param>
    public static MappedCall Map(JsonElement call, string? defaultType, DateTimeOffset receivedAt)
    {
        if (call.ValueKind != JsonValueKind.Object) throw new InvalidCall("a call must be a JSON object");
        var type = Str(call, "type") ?? defaultType ?? throw new InvalidCall("type is required (track, identify, page, screen)");
        if (!KnownTypes.Contains(type)) throw new InvalidCall($"type '{type}' is not one of track, identify, page, screen");
        if (defaultType is not null && type != defaultType)
            throw new InvalidCall($"type '{type}' posted to /v1/{defaultType}");
        var userId = Str(call, "userId");
        var anonymousId = Str(call, "anonymousId");
        if (string.IsNullOrEmpty(userId) && string.IsNullOrEmpty(anonymousId))
            throw new InvalidCall("userId or anonymousId is required");
        var customerId = !string.IsNullOrEmpty(userId) ? userId : CustomerIds.Anonymous(anonymousId!);
        var messageId = Str(call, "messageId") ?? GeneratedMessageId(call);
        var timestamp = Time(call, "timestamp") ?? receivedAt;
        var props = call.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        string? timeZone = null;
        if (call.TryGetProperty("context", out var ctx) && ctx.ValueKind == JsonValueKind.Object)
            timeZone = Str(ctx, "timezone");

        CustomerEvent e = type switch
        {
            "track" => Track(Str(call, "event") ?? throw new InvalidCall("event is required for a track call")),
            "identify" => new Identified(messageId, timestamp, Traits(call)),
            "page" or "screen" when Str(props, "product_id") is { } pid => View(pid, type),
            _ => new OtherEvent(messageId, timestamp, Str(call, "name") is { } name ? $"{type}: {name}" : type),
        };
        var merge = type == "identify" && !string.IsNullOrEmpty(userId) && !string.IsNullOrEmpty(anonymousId)
            ? CustomerIds.Anonymous(anonymousId)
            : null;
        // Most calls carry no time zone: no copy of the event for them.
        return new MappedCall(customerId, timeZone is null ? e : e with { TimeZone = timeZone }, merge);

        CustomerEvent Track(string name)
        {
            switch (name)
            {
                case "Product Viewed":
                    return View(Required(props, "product_id", name), name);
                case "Product Added":
                {
                    var pid = Required(props, "product_id", name);
                    return new ProductAdded(messageId, timestamp, pid, Int(props, "quantity") ?? 1, Dec(props, "price"),
                        Str(props, "cart_id") ?? "default");
                }
                case "Product Removed":
                    return new ProductRemoved(messageId, timestamp, Required(props, "product_id", name), Int(props, "quantity"),
                        Str(props, "cart_id") ?? "default");
                case "Cart Viewed" or "Checkout Started":
                {
                    if (props.ValueKind != JsonValueKind.Object || !props.TryGetProperty("products", out var listed)
                        || listed.ValueKind != JsonValueKind.Array)
                        return new OtherEvent(messageId, timestamp, name);
                    var items = listed.EnumerateArray().Select(line => new CartItem(
                        Str(line, "product_id") ?? throw new InvalidCall("properties.products[].product_id is required"),
                        Int(line, "quantity") ?? 1, Dec(line, "price"))).ToArray();
                    return new CartViewed(messageId, timestamp, name, Str(props, "cart_id") ?? "default", items);
                }
                case "Order Completed":
                {
                    var lines = new List<OrderLine>();
                    if (props.ValueKind == JsonValueKind.Object && props.TryGetProperty("products", out var products)
                        && products.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var line in products.EnumerateArray())
                        {
                            var pid = Str(line, "product_id") ?? throw new InvalidCall("properties.products[].product_id is required");
                            lines.Add(new OrderLine(pid, Int(line, "quantity") ?? 1, Dec(line, "price"), Str(line, "category"),
                                Str(line, "pack_size"), Dbl(line, "consumption_days")));
                        }
                    }
                    return new OrderCompleted(messageId, timestamp, Str(props, "order_id") ?? messageId, Str(props, "cart_id"),
                        Dec(props, "total"), lines);
                }
                case "Product Subscribed":
                {
                    return new ProductSubscribed(messageId, timestamp, Required(props, "product_id", name));
                }
                case "Trigger Feedback":
                {
                    var feedback = Required(props, "feedback", name);
                    if (feedback is not ("already_purchased" or "not_interested"))
                        throw new InvalidCall("properties.feedback must be already_purchased or not_interested");
                    return new TriggerFeedback(messageId, timestamp, Required(props, "product_id", name), feedback);
                }
                case "Message Sent":
                    return new MessageSent(messageId, timestamp, Required(props, "channel", name), Str(props, "purpose"));
                case "Signed Up" or "Newsletter Subscribed":
                    return new SignedUp(messageId, timestamp, name);
                default:
                    return new OtherEvent(messageId, timestamp, name);
            }
        }

        CustomerEvent View(string pid, string name)
        {
            return new ProductViewed(messageId, timestamp, pid, Dec(props, "price"), Str(props, "category"), Lng(props, "view_duration_ms"));
        }
    }

    /// <summary>A call without messageId gets one derived from its content, so a replay dedups it too.</summary>
    private static string GeneratedMessageId(JsonElement call) =>
        "gen-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(call.GetRawText())))[..32];

    private static string Required(JsonElement props, string name, string eventName) =>
        Str(props, name) ?? throw new InvalidCall($"properties.{name} is required for {eventName}");

    private static IReadOnlyDictionary<string, string>? Traits(JsonElement call)
    {
        if (!call.TryGetProperty("traits", out var t) || t.ValueKind != JsonValueKind.Object) return null;
        var d = new Dictionary<string, string>();
        foreach (var p in t.EnumerateObject())
            d[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        return d;
    }

    public static string? Str(JsonElement o, string name)
    {
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => throw new InvalidCall($"{name} must be a string"),
        };
    }

    public static decimal? Dec(JsonElement o, string name)
    {
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetDecimal(out var d) => d,
            JsonValueKind.String when decimal.TryParse(v.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => d,
            JsonValueKind.Null => null,
            _ => throw new InvalidCall($"{name} must be a number"),
        };
    }

    public static double? Dbl(JsonElement o, string name) => (double?)Dec(o, name);

    public static int? Int(JsonElement o, string name) => Dec(o, name) is { } d ? (int)Math.Round(d) : null;

    private static long? Lng(JsonElement o, string name) => Dec(o, name) is { } d ? (long)Math.Round(d) : null;

    public static bool? Bool(JsonElement o, string name)
    {
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => null,
            _ => throw new InvalidCall($"{name} must be true or false"),
        };
    }

    public static DateTimeOffset? Time(JsonElement o, string name)
    {
        var s = Str(o, name);
        if (s is null) return null;
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new InvalidCall($"{name} '{s}' is not an ISO-8601 time");
    }
}
