using Prometheus;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Ingest;
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

    private static readonly Counter EventsSkipped = Metrics.CreateCounter(
        "trigger_engine_events_skipped_total", "Accepted events skipped because applying them threw (a bug; each is logged with its messageId).");

    private static readonly Gauge MemoryPressed = Metrics.CreateGauge(
        "trigger_engine_memory_pressed", "1 while the heap is over its budget (ingestion answers 503, entities leave memory).");

    private static readonly Gauge ResidentEntities = Metrics.CreateGauge(
        "trigger_engine_resident_entities", "Customers and products resident on this node.",
        new GaugeConfiguration { LabelNames = ["kind"] });

    private static readonly Gauge ResidentLimit = Metrics.CreateGauge(
        "trigger_engine_resident_limit", "The residency limit in force (the configured one; the customers' is lower while memory is short).",
        new GaugeConfiguration { LabelNames = ["kind"] });

    private static readonly Counter EntitiesActivated = Metrics.CreateCounter(
        "trigger_engine_entities_activated_total", "Entities brought into memory on this node, by kind, and whether a stored row was found (restored) or not (new).",
        new CounterConfiguration { LabelNames = ["kind", "from"] });

    /// <summary>Reads the memory guard, the residency limit, the skipped events and the activations at each scrape.</summary>
    public static void Observe(MemoryGuard memory, ResidencyLimit customers, ResidencyLimit products) =>
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            MemoryPressed.Set(memory.Pressed ? 1 : 0);
            ResidentEntities.WithLabels("customer").Set(customers.Count);
            ResidentEntities.WithLabels("product").Set(products.Count);
            ResidentLimit.WithLabels("customer").Set(customers.Current);
            ResidentLimit.WithLabels("product").Set(products.Current);
            EventsSkipped.IncTo(Interlocked.Read(ref CustomerEntity.EventsSkipped));
            Activations("customer", customers);
            Activations("product", products);
        });

    private static void Activations(string kind, ResidencyLimit limit)
    {
        var restored = limit.Restored;
        EntitiesActivated.WithLabels(kind, "restored").IncTo(restored);
        EntitiesActivated.WithLabels(kind, "new").IncTo(limit.Activated - restored);
    }
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
