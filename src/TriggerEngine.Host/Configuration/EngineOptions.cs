namespace TriggerEngine.Host.Configuration;

/// <summary>Section <c>Engine</c>: clock mode and where local state lives.</summary>
public sealed class EngineOptions
{
    /// <summary><c>wall</c> (live) or <c>event</c> (replay: time follows the events' timestamps).</summary>
    public string Clock { get; set; } = "wall";

    /// <summary>Event-clock mode: the watermark trails the latest event time by this much.</summary>
    public TimeSpan AllowedLateness { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>SQLite journal, consent store and decision file go here (relative to the working directory).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>A stop (SIGTERM) that has not ended after this long ends the process as a crash would
    /// (<see cref="TriggerEngineApp.EndIfStopHangs"/>).</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>Section <c>Auth</c>: write keys for ingestion, admin keys for the admin endpoints.</summary>
public sealed class AuthOptions
{
    public string? WriteKey { get; set; }
    public List<string> WriteKeys { get; set; } = new();
    public string? AdminKey { get; set; }
    public List<string> AdminKeys { get; set; } = new();

    public IReadOnlySet<string> AllWriteKeys => Keys(WriteKey, WriteKeys);
    public IReadOnlySet<string> AllAdminKeys => Keys(AdminKey, AdminKeys);

    private static HashSet<string> Keys(string? one, IEnumerable<string> many) =>
        new(many.Append(one ?? "").Where(k => !string.IsNullOrEmpty(k)), StringComparer.Ordinal);
}

/// <summary>Section <c>Http</c>: listening address and request limits (Segment's own by default).</summary>
public sealed class HttpOptions
{
    public string Urls { get; set; } = "http://127.0.0.1:5080";
    public int MaxBodyBytes { get; set; } = 500 * 1024;
    public int MaxBatchCalls { get; set; } = 2500;
    public int MaxCallBytes { get; set; } = 32 * 1024;

    /// <summary>Ingestion requests in flight at once; beyond that the answer is 429 with Retry-After.</summary>
    public int MaxConcurrentRequests { get; set; } = 256;

    /// <summary>Origins allowed to post from a browser; <c>*</c> allows any.</summary>
    public List<string> CorsOrigins { get; set; } = new();
}

/// <summary>Section <c>Sinks</c>: where decisions go.</summary>
public sealed class SinkOptions
{
    public NdjsonSinkOptions Ndjson { get; set; } = new();
}

public sealed class NdjsonSinkOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Empty: <c>{DataDirectory}/decisions.ndjson</c>.</summary>
    public string Path { get; set; } = "";

    /// <summary>Which outcomes are written: trigger commands are the <c>sent</c> ones.</summary>
    public List<string> Outcomes { get; set; } = new();
}
