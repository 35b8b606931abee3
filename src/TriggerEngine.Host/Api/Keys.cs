using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TriggerEngine.Host.Configuration;

namespace TriggerEngine.Host.Api;

/// <summary>
/// SPEC 2 auth: a write key as the Basic-auth username (server SDKs) or a <c>writeKey</c> body field
/// (browser SDKs) for ingestion; <c>Bearer &lt;admin key&gt;</c> for admin endpoints.
/// </summary>
public sealed class Keys(IOptions<AuthOptions> options)
{
    private readonly IReadOnlySet<string> _write = options.Value.AllWriteKeys;
    private readonly IReadOnlySet<string> _admin = options.Value.AllAdminKeys;

    /// <summary>Null when the request may ingest; otherwise the 401 to answer.</summary>
    public IResult? CheckWrite(HttpRequest request, JsonElement body)
    {
        var key = PresentedKey(request);
        if (key is null && body.ValueKind == JsonValueKind.Object && body.TryGetProperty("writeKey", out var wk)
            && wk.ValueKind == JsonValueKind.String)
            key = wk.GetString();
        if (key is null) return Problems.Unauthorized("A write key is required: Basic auth with the key as username, or a writeKey field");
        return _write.Contains(key) ? null : Problems.Unauthorized("Unknown write key");
    }

    /// <summary>Null when the request carries the admin key; else 403 for a write key, 401 otherwise.</summary>
    public IResult? CheckAdmin(HttpRequest request)
    {
        var key = PresentedKey(request);
        if (key is null) return Problems.Unauthorized("An admin key is required: Authorization: Bearer <admin key>");
        if (_admin.Contains(key) && request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return null;
        if (_write.Contains(key)) return Problems.Forbidden("A write key cannot use admin endpoints");
        return Problems.Unauthorized("Unknown admin key");
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                var colon = decoded.IndexOf(':');
                return colon < 0 ? decoded : decoded[..colon];
            }
            catch (FormatException)
            {
                return "";
            }
        }
        return null;
    }
}
