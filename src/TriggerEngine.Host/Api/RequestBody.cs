using System.IO.Compression;
using System.Text.Json;

namespace TriggerEngine.Host.Api;

/// <summary>
/// Reads a request body the way Segment SDKs send it: JSON, JSON as text/plain, or MessagePack;
/// optionally gzip-compressed; within the size limit (after decompression too).
/// </summary>
public static class RequestBody
{
    public sealed class Rejected(IResult problem) : Exception
    {
        public IResult Problem { get; } = problem;
    }

    public static async Task<JsonDocument> ReadAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        var mediaType = (request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        var msgpack = mediaType is "application/x-msgpack" or "application/msgpack" or "application/vnd.msgpack";
        if (!msgpack && mediaType is not ("application/json" or "text/plain"))
            throw new Rejected(Problems.UnsupportedMediaType(
                $"Content-Type '{request.ContentType}' is not accepted; use application/json, text/plain (holding JSON) or application/x-msgpack"));

        Stream body = request.Body;
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        if (encoding == "gzip") body = new GZipStream(body, CompressionMode.Decompress, leaveOpen: true);
        else if (encoding is not ("" or "identity"))
            throw new Rejected(Problems.UnsupportedMediaType($"Content-Encoding '{encoding}' is not accepted; use gzip"));

        // Rented, not allocated: the body is copied once more into the JSON document's own pooled buffer
        // (JsonDocument.Parse(Stream)), so this one goes back to the pool before the request is applied.
        var declared = request.ContentLength is { } cl && cl <= maxBytes && encoding != "gzip" ? (int)cl : 16 * 1024;
        using var buffer = new PooledBufferWriter(declared + 1);
        try
        {
            int n;
            while ((n = await body.ReadAsync(buffer.GetMemory(16 * 1024), ct)) > 0)
            {
                buffer.Advance(n);
                if (buffer.Length > maxBytes)
                    throw new Rejected(Problems.TooLarge($"The body is over the limit of {maxBytes / 1024} KB"));
            }
        }
        catch (InvalidDataException ex)
        {
            throw new Rejected(Problems.BadRequest($"The body is not valid gzip: {ex.Message}"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == 413)
        {
            throw new Rejected(Problems.TooLarge($"The body is over the limit of {maxBytes / 1024} KB"));
        }

        if (buffer.Length == 0) throw new Rejected(Problems.BadRequest("The body is empty; a JSON object was expected"));
        try
        {
            if (!msgpack) return Parse(buffer.WrittenMemory);
            using var json = new PooledBufferWriter(buffer.Length * 2);
            MessagePackJson.Transcode(buffer.WrittenMemory, json);
            return Parse(json.WrittenMemory);
        }
        catch (JsonException ex)
        {
            throw new Rejected(Problems.BadRequest($"Malformed JSON: {ex.Message}"));
        }
        catch (MessagePackJson.MalformedException ex)
        {
            throw new Rejected(Problems.BadRequest($"Malformed MessagePack: {ex.Message}"));
        }
    }

    /// <summary>A document that owns a pooled copy of <paramref name="utf8"/> (returned when it is disposed).</summary>
    private static JsonDocument Parse(ReadOnlyMemory<byte> utf8)
    {
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(utf8, out var segment);
        using var stream = new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false);
        return JsonDocument.Parse(stream);
    }
}
