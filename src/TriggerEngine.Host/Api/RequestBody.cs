using System.IO.Compression;
using System.Text.Json;
using MessagePack;

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

        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await body.ReadAsync(chunk, ct)) > 0)
            {
                buffer.Write(chunk, 0, n);
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

        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (bytes.Length == 0) throw new Rejected(Problems.BadRequest("The body is empty; a JSON object was expected"));
        try
        {
            if (msgpack)
            {
                var json = MessagePackSerializer.ConvertToJson(bytes, MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData), ct);
                return JsonDocument.Parse(json);
            }
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException ex)
        {
            throw new Rejected(Problems.BadRequest($"Malformed JSON: {ex.Message}"));
        }
        catch (MessagePackSerializationException ex)
        {
            throw new Rejected(Problems.BadRequest($"Malformed MessagePack: {ex.Message}"));
        }
        catch (Exception ex) when (msgpack && ex is not OperationCanceledException)
        {
            throw new Rejected(Problems.BadRequest($"Malformed MessagePack: {ex.Message}"));
        }
    }
}
