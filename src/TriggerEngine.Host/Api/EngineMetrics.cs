using Prometheus;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Ports;

namespace TriggerEngine.Host.Api;

/// <summary>The engine's own Prometheus series, beside prometheus-net's HTTP ones on <c>/metrics</c>.</summary>
public static class EngineMetrics
{
    public static readonly Counter EventsAccepted = Metrics.CreateCounter(
        "trigger_engine_events_accepted_total", "Calls accepted (durable) through the ingestion API.");

    public static readonly Counter CallsRejected = Metrics.CreateCounter(
        "trigger_engine_calls_rejected_total", "Calls rejected inside otherwise well-formed batches.");

    public static readonly Counter Decisions = Metrics.CreateCounter(
        "trigger_engine_decisions_total", "Decision records by scenario and outcome.",
        new CounterConfiguration { LabelNames = ["scenario", "outcome", "suppressed_by"] });
}

/// <summary>Counts every decision record by scenario, outcome and suppression reason.</summary>
public sealed class MetricsDecisionSink : IDecisionSink
{
    public ValueTask WriteAsync(IReadOnlyList<TriggerDecision> decisions, CancellationToken cancellationToken = default)
    {
        foreach (var d in decisions) EngineMetrics.Decisions.WithLabels(d.Scenario, d.Outcome, d.SuppressedBy ?? "").Inc();
        return ValueTask.CompletedTask;
    }
}
