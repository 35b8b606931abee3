using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using TriggerEngine.Host;

namespace TriggerEngine.Host.Tests;

/// <summary>
/// A real engine for a test: the same composition root as <c>Program</c>, listening on a free loopback
/// port, with its own temporary data directory (SQLite journal, consent store, decision file).
/// </summary>
public sealed class EngineProcess : IAsyncDisposable
{
    public const string WriteKey = "test-write-key";
    public const string AdminKey = "test-admin-key";

    private readonly WebApplication _app;
    private bool _stopped;

    private EngineProcess(WebApplication app, string dataDir, Uri baseAddress)
    {
        _app = app;
        DataDirectory = dataDir;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public string DataDirectory { get; }
    public HttpClient Http { get; }

    /// <summary>This engine's own services. The metrics are process-wide, and tests run several engines in one process.</summary>
    public IServiceProvider Services => _app.Services;
    public string DecisionFile => Path.Combine(DataDirectory, "decisions.ndjson");

    /// <param name="settings">Extra settings as <c>Section:Key</c> = value (command-line overrides).</param>
    public static async Task<EngineProcess> StartAsync(string clock = "event", IDictionary<string, string>? settings = null,
        string? dataDirectory = null)
    {
        var dataDir = dataDirectory ?? Path.Combine(Path.GetTempPath(), "trigger-engine-tests", Guid.NewGuid().ToString("N"));
        var args = new List<string>
        {
            "--clock", clock, "--data", dataDir, "--write-key", WriteKey, "--admin-key", AdminKey,
            "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) args.AddRange([$"--{k}", v]);
        var app = TriggerEngineApp.Build(args.ToArray());
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var engine = new EngineProcess(app, dataDir, new Uri(address));
        await engine.WaitReadyAsync();
        return engine;
    }

    private async Task WaitReadyAsync()
    {
        for (var i = 0; i < 300; i++)
        {
            if ((await Http.GetAsync("/health/ready")).IsSuccessStatusCode) return;
            await Task.Delay(100);
        }
        throw new TimeoutException("the engine did not become ready in 30 s");
    }

    public HttpRequestMessage Request(HttpMethod method, string path, object? body = null, string auth = "write")
    {
        var r = new HttpRequestMessage(method, path);
        if (body is not null) r.Content = JsonContent.Create(body);
        if (auth == "write")
            r.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":")));
        else if (auth == "admin") r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return r;
    }

    public async Task<JsonNode?> SendOk(HttpMethod method, string path, object? body = null, string auth = "write")
    {
        var response = await Http.SendAsync(Request(method, path, body, auth));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    public Task<JsonNode?> Batch(params object[] calls) => SendOk(HttpMethod.Post, "/v1/batch", new { batch = calls });

    public Task<JsonNode?> Watermark(DateTimeOffset to) =>
        SendOk(HttpMethod.Post, "/v1/admin/watermark", new { to = Iso(to) }, "admin");

    public Task<JsonNode?> Catalog(params object[] products) =>
        SendOk(HttpMethod.Post, "/v1/catalog", new { products }, "admin");

    public Task Consent(string customerId, bool email = true, bool sms = false, bool push = false, int? maxPerWeek = null,
        string[]? optOutTopics = null, bool unsubscribedAll = false, DateTimeOffset? updatedAt = null,
        bool cartReminders = true, bool promotions = true, bool productAlerts = true) =>
        SendOk(HttpMethod.Put, $"/v1/consent/{customerId}", new
        {
            channels = new { email, sms, push },
            purposes = new { cart_reminders = cartReminders, promotions, product_alerts = productAlerts },
            maxPerWeek,
            optOutTopics = optOutTopics ?? [],
            unsubscribedAll,
            updatedAt = Iso(updatedAt ?? new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero)),
        }, "admin");

    public async Task<JsonArray> Decisions(string customerId)
    {
        var x = await SendOk(HttpMethod.Get, $"/v1/customers/{Uri.EscapeDataString(customerId)}", auth: "admin");
        return x!["decisions"]!.AsArray();
    }

    /// <summary>Final (sent or suppressed) decisions of one scenario, as (outcome, suppressedBy) pairs.</summary>
    public async Task<List<(string Outcome, string? SuppressedBy)>> Finals(string customerId, string scenario) =>
        (await Decisions(customerId))
            .Where(d => (string?)d!["scenario"] == scenario && (string?)d["outcome"] is "sent" or "suppressed")
            .Select(d => ((string)d!["outcome"]!, (string?)d["suppressedBy"]))
            .ToList();

    /// <summary>Sends a request and returns the raw response, whatever its status.</summary>
    public async Task<HttpResponseMessage> Send(HttpMethod method, string path, HttpContent? content = null, string auth = "write")
    {
        var r = Request(method, path, null, auth);
        r.Content = content;
        return await Http.SendAsync(r);
    }

    /// <summary>The explain view of one customer (<c>GET /v1/customers/{id}</c>), which must exist.</summary>
    public Task<JsonNode?> Explain(string customerId) =>
        SendOk(HttpMethod.Get, $"/v1/customers/{Uri.EscapeDataString(customerId)}", auth: "admin");

    /// <summary>Every decision record (all outcomes) of one scenario, in the order the engine lists them.</summary>
    public async Task<List<JsonNode>> Records(string customerId, string scenario) =>
        (await Decisions(customerId)).Where(d => (string?)d!["scenario"] == scenario).Select(d => d!).ToList();

    /// <summary>The final (sent or suppressed) records of one scenario.</summary>
    public async Task<List<JsonNode>> FinalRecords(string customerId, string scenario) =>
        (await Records(customerId, scenario)).Where(d => (string?)d["outcome"] is "sent" or "suppressed").ToList();

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    /// <summary>Stops the engine like a process exit, keeping its data directory for a successor.</summary>
    public async Task StopKeepingDataAsync()
    {
        if (_stopped) return;
        _stopped = true;
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopKeepingDataAsync();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Builders for Segment calls, as an SDK would send them.</summary>
public static class Calls
{
    public static object Track(string userId, string eventName, DateTimeOffset at, object? properties = null, string? messageId = null,
        string? timezone = null) => new Dictionary<string, object?>
    {
        ["type"] = "track", ["userId"] = userId, ["event"] = eventName, ["timestamp"] = EngineProcess.Iso(at),
        ["messageId"] = messageId ?? Guid.NewGuid().ToString("N"), ["properties"] = properties ?? new { },
        ["context"] = timezone is null ? null : new { timezone },
    };

    public static object Added(string userId, DateTimeOffset at, string productId = "sku-1", string? cartId = null, decimal price = 20) =>
        Track(userId, "Product Added", at, new { product_id = productId, quantity = 1, price, cart_id = cartId ?? userId + "-cart" });

    public static object Viewed(string userId, DateTimeOffset at, string productId = "sku-2", decimal? price = 50) =>
        Track(userId, "Product Viewed", at, new { product_id = productId, price });

    public static object Anonymous(string anonymousId, string eventName, DateTimeOffset at, object? properties = null,
        string? messageId = null) => new Dictionary<string, object?>
    {
        ["type"] = "track", ["anonymousId"] = anonymousId, ["event"] = eventName, ["timestamp"] = EngineProcess.Iso(at),
        ["messageId"] = messageId ?? Guid.NewGuid().ToString("N"), ["properties"] = properties ?? new { },
    };

    public static object Identify(string userId, string? anonymousId, DateTimeOffset at, object? traits = null) =>
        new Dictionary<string, object?>
        {
            ["type"] = "identify", ["userId"] = userId, ["anonymousId"] = anonymousId, ["timestamp"] = EngineProcess.Iso(at),
            ["messageId"] = Guid.NewGuid().ToString("N"), ["traits"] = traits ?? new { },
        };

    public static object Page(string userId, DateTimeOffset at, string productId, string type = "page") =>
        new Dictionary<string, object?>
        {
            ["type"] = type, ["userId"] = userId, ["name"] = "Product", ["timestamp"] = EngineProcess.Iso(at),
            ["messageId"] = Guid.NewGuid().ToString("N"), ["properties"] = new { product_id = productId },
        };

    public static object Subscribed(string userId, DateTimeOffset at, string productId, string? messageId = null) =>
        Track(userId, "Product Subscribed", at, new { product_id = productId }, messageId);

    public static object SignedUp(string userId, DateTimeOffset at, string eventName = "Signed Up", string? messageId = null) =>
        Track(userId, eventName, at, new { }, messageId);

    public static object MessageSent(string userId, DateTimeOffset at, string channel, string purpose = "promotions") =>
        Track(userId, "Message Sent", at, new { channel, purpose });

    public static object Feedback(string userId, DateTimeOffset at, string productId, string feedback) =>
        Track(userId, "Trigger Feedback", at, new { product_id = productId, feedback });

    public static object Order(string userId, DateTimeOffset at, string orderId, string? cartId = null, params object[] products) =>
        Track(userId, "Order Completed", at, new { order_id = orderId, cart_id = cartId, total = 10, products });
}
