using HdrHistogram;

namespace TriggerEngine.LoadTool.Replay;

/// <summary>One acknowledged request: wall times in µs since the run started, and the latest event time it carried.</summary>
/// <param name="MaxEventTicks">largest event time in the request (UTC ticks); for the final watermark, the event time that
/// would move the watermark as far (watermark + allowed lateness); 0 for requests that do not move the watermark</param>
internal readonly record struct RequestSample(long StartUs, long EndUs, int Events, long MaxEventTicks);

/// <summary>A decision line of an immediate trigger, the first time it was seen in the sink.</summary>
internal readonly record struct SeenDecision(string DecisionId, string Scenario, long DecidedAtTicks, long SeenUs, string CustomerId = "");

/// <summary>What one connection measured; merged at the end (no locking while running).</summary>
internal sealed class ConnectionStats
{
    /// <summary>HTTP latency of every 2xx answer, µs, 1 µs .. 1 h at 3 significant digits.</summary>
    public LongHistogram Latency { get; } = NewHistogram();
    public List<RequestSample> Samples { get; } = new();
    public Dictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);
    public long Retries;
    public long Events;
    public long Requests;

    public void Error(string key) { lock (Errors) Errors[key] = Errors.GetValueOrDefault(key) + 1; }

    public static LongHistogram NewHistogram() => new(1, 3_600_000_000L, 3);
}
