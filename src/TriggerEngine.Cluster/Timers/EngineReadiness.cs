namespace TriggerEngine.Cluster.Timers;

/// <summary>Whether this node has replayed its ingest log and armed its timers after start; readiness waits for both.</summary>
public sealed class EngineReadiness
{
    private volatile bool _logRecovered;
    private volatile bool _timersRecovered;
    public bool LogRecovered => _logRecovered;
    public bool TimersRecovered => _timersRecovered;
    public void MarkLogRecovered() => _logRecovered = true;
    public void MarkTimersRecovered() => _timersRecovered = true;
}
