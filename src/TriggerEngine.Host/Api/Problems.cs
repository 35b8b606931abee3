namespace TriggerEngine.Host.Api;

/// <summary>RFC 7807 problem+json answers, each naming the problem in a sentence.</summary>
public static class Problems
{
    public static IResult Of(int status, string title, string detail, int? retryAfterSeconds = null) =>
        new ProblemResult(status, title, detail, retryAfterSeconds);

    public static IResult BadRequest(string detail) => Of(400, "Bad request", detail);
    public static IResult Unauthorized(string detail) => Of(401, "Unauthorized", detail);
    public static IResult Forbidden(string detail) => Of(403, "Forbidden", detail);
    public static IResult NotFound(string detail) => Of(404, "Not found", detail);
    public static IResult Conflict(string detail) => Of(409, "Conflict", detail);
    public static IResult TooLarge(string detail) => Of(413, "Payload too large", detail);
    public static IResult UnsupportedMediaType(string detail) => Of(415, "Unsupported media type", detail);
    public static IResult TooManyRequests(string detail) => Of(429, "Too many requests", detail, 1);
    public static IResult Unavailable(string detail) => Of(503, "Service unavailable", detail, 2);

    private sealed class ProblemResult(int status, string title, string detail, int? retryAfter) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = status;
            if (retryAfter is { } s) http.Response.Headers.RetryAfter = s.ToString();
            return http.Response.WriteAsJsonAsync(new
            {
                type = "about:blank",
                title,
                status,
                detail,
                instance = http.Request.Path.Value,
            }, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
        }
    }
}
